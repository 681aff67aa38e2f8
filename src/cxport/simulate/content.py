"""What people write: pt-BR message texts, names and identifiers.

Some texts are deliberately awkward for CSV and spreadsheets (commas,
quotes, line breaks, emoji, a leading `=`, `+`, `-` or `@`): exports must
carry them unharmed and guard the formula-like ones.
"""

from __future__ import annotations

from collections.abc import Callable

FIRST_CONTACT = (
    "Olá, meu pedido {n} não chegou ainda",
    "Oi! Quero trocar um produto que veio com defeito",
    "Boa tarde, o pagamento do pedido {n} não foi aprovado. Podem verificar?",
    "Preciso cancelar minha compra",
    "Vocês entregam em Campinas? Qual o prazo?",
    "Comprei um tênis tamanho 40 e veio 42",
    "Não consigo acessar minha conta no app",
    "Quando chega a nota fiscal do pedido {n}?",
    "O cupom de desconto não está funcionando",
    "Bom dia! Gostaria de saber sobre a garantia do liquidificador",
    "Meu reembolso ainda não caiu na fatura",
    "Quero elogiar a entregadora, muito educada!",
)
CONTACT_FOLLOW_UP = (
    "O número do pedido é {n}",
    "Obrigado!",
    "Ainda não resolveu...",
    "Pode ser pelo Pix?",
    "Segue o CPF do titular, está no cadastro",
    "Ok, aguardo",
    "Perfeito, muito obrigada",
    "Consegui aqui, valeu",
    "Foto do produto em anexo",
    "Qual o prazo?",
)
CONTACT_NUDGE = ("Alguém aí?", "Oi??", "Ainda estou aguardando", "Olá, tem alguém me atendendo?")
CONTACT_RETURN = (
    "Voltei: o problema continua",
    "Desculpe, esqueci de perguntar uma coisa",
    "Chegou, mas veio errado de novo",
    "Respondendo: sim, pode seguir",
    "Ainda não recebi o estorno",
)
AGENT_FIRST = (
    "Oi! Sou {agent}, vou verificar para você, um momento.",
    "Olá, tudo bem? Pode me passar o número do pedido?",
    "Bom dia! Já estou olhando o seu caso.",
    "Olá! Sinto muito pelo transtorno, vou resolver isso agora.",
)
AGENT_FOLLOW_UP = (
    "Prontinho, já abri a solicitação de troca.",
    "O pedido {n} sai para entrega amanhã.",
    "O estorno aparece em até 2 faturas.",
    "Enviei o código de rastreio por e-mail.",
    "Pode me confirmar o CEP de entrega?",
    "Posso ajudar em algo mais?",
    "Cupom reativado, pode tentar de novo.",
)
AGENT_PENDING = (
    "Fico no aguardo da foto do produto.",
    "Assim que puder, me envie o comprovante.",
    "Aguardo o seu retorno para seguir.",
)
AGENT_REOPEN = (
    "Oi, passando para confirmar se deu tudo certo com a troca.",
    "Olá! Reabri o seu atendimento: o estorno foi processado.",
)
VA_GREETING = (
    "Olá! Sou a assistente virtual. Sobre o que você quer falar?",
    "Oi! Posso ajudar com pedidos, trocas e pagamentos. Me conte o que aconteceu.",
)
VA_FOLLOW_UP = (
    "Entendi. Me passe o número do pedido, por favor.",
    "Encontrei seu pedido: ele está em transporte.",
    "Você pode acompanhar a entrega pelo link do rastreio.",
)
VA_RESOLVE = ("Que bom que consegui ajudar! Até mais.", "Resolvido! Qualquer coisa, é só chamar.")
VA_HANDOVER = (
    "Vou transferir você para um atendente.",
    "Um especialista vai continuar o atendimento.",
)
AUTO_REPLY_OPEN = (
    "Recebemos sua mensagem! Protocolo {n}.",
    "Olá! Em instantes você será atendido.",
)
AUTO_REPLY_CLOSED = (
    "Nosso horário de atendimento é de segunda a sexta, das 8h às 20h. Responderemos em breve.",
    "Estamos fora do horário de atendimento; sua mensagem foi registrada (protocolo {n}).",
)
CSAT_SURVEY = "Como você avalia o nosso atendimento? Responda de 1 a 5."
AUTOMATION_REMINDER = "Ainda precisa de ajuda? Responda esta mensagem para continuar."
PROACTIVE = (
    "Seu pedido {n} foi enviado! Acompanhe pelo link.",
    "Olá! Seu boleto vence amanhã. Precisa de ajuda?",
    "Temos uma oferta para você: 10% de desconto até domingo.",
)
FOLLOW_UP_QUESTION_LOW = "O que podemos melhorar?"
FOLLOW_UP_QUESTION_HIGH = "O que você mais gostou no atendimento?"
FOLLOW_UP_ANSWERS = (
    "Demorou muito para me responderem",
    "Atendente muito atenciosa",
    "Resolveram rápido, obrigado",
    "Precisei explicar o problema duas vezes",
    "Tudo ótimo 👍",
)
RESOLVE_REASONS = (
    "Dúvida esclarecida",
    "Troca solicitada",
    "Reembolso aprovado",
    "Informação enviada",
    "Sem resposta do cliente",
)
RESOLVE_COMMENTS = ("cliente satisfeito", "caso encaminhado ao financeiro", "rastreio enviado")
NO_REPLY_REASONS = ("Spam", "Duplicado", "Mensagem automática")
# Awkward on purpose: CSV quoting, spreadsheet formulas, multi-byte text.
TRICKY = (
    '=HYPERLINK("http://exemplo.invalid","clique")',
    "=1+1",
    "+55 (11) 99999-0000 é o meu número",
    "+ rápido, por favor",
    "-5 estrelas se demorar",
    "-",
    "@LojaAjuda cadê meu pedido?",
    "@todos atenção",
    "Comprei 2, paguei 3, recebi 1",
    'Ele disse "amanhã" e não veio',
    "Linha 1\nLinha 2\r\nLinha 3",
    "Adorei 😍🎉 obrigado!!",
    "Pedido: 123; valor: R$ 1.234,56",
    "\tcom tabulação no início",
    "Barra \\ invertida e | barra vertical",
    'Texto com "aspas", vírgulas, e\numa quebra de linha 👀',
)
FIRST_NAMES = (
    "Ana", "Bruno", "Carla", "Diego", "Eduarda", "Felipe", "Gabriela", "Heitor", "Isabela",
    "João", "Karina", "Lucas", "Mariana", "Nicolas", "Olívia", "Pedro", "Quésia", "Rafael",
    "Sofia", "Tiago", "Úrsula", "Vitor", "Wesley", "Yasmin", "Zeca", "Beatriz", "Caio",
    "Débora", "Enzo", "Fernanda", "Gustavo", "Helena", "Igor", "Júlia", "Leonardo", "Manuela",
)  # fmt: skip
LAST_NAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
    "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Araújo",
    "Barbosa", "Cardoso", "Nascimento", "Moreira", "Teixeira", "D'Ávila", "Conceição",
)  # fmt: skip
# Contact display names that need care in a spreadsheet.
TRICKY_NAMES = (
    "=Pedro",
    "+Ana",
    "-Carlos-",
    "@joaozinho",
    'Maria "Mel" Silva',
    "José, o Zé",
    "Bia 🌸",
)
AREA_CODES = (11, 11, 11, 21, 31, 41, 51, 61, 71, 81, 85, 92, 19, 13)


class Phrasebook:
    """Picks texts with the caller's uniform draws (`u` is `random.random`)."""

    def __init__(self, u: Callable[[], float], tricky_rate: float) -> None:
        self._u = u
        self._tricky = tricky_rate

    def pick(self, options: tuple[str, ...], n: int = 0, agent: str = "") -> str:
        u = self._u
        if u() < self._tricky:
            return TRICKY[int(u() * len(TRICKY))]
        text = options[int(u() * len(options))]
        if "{" in text:
            text = text.format(n=n, agent=agent)
        return text

    def email_body(self, text: str, name: str) -> str:
        return f"Olá,\n\n{text}\n\nAtenciosamente,\n{name}"


def person_name(k: int) -> str:
    """A deterministic Brazilian full name for the k-th person."""
    first = FIRST_NAMES[k % len(FIRST_NAMES)]
    last = LAST_NAMES[(k // len(FIRST_NAMES) + k * 7) % len(LAST_NAMES)]
    return f"{first} {last}"


def slug(name: str) -> str:
    table = str.maketrans("áàâãéêíóôõúüçÁÉÍÓÚÇ' ", "aaaaeeiooouucAEIOUC-.")
    return name.translate(table).lower()


def contact_identifiers(medium: str, k: int) -> tuple[str | None, str | None]:
    """(primary, secondary) identifiers of the k-th contact of a medium."""
    name = person_name(k * 13 + 5)
    if k % 97 == 3:
        name = TRICKY_NAMES[(k // 97) % len(TRICKY_NAMES)]
    digits = (k * 7_654_321 + 12_345_678) % 100_000_000
    phone = f"+55{AREA_CODES[k % len(AREA_CODES)]}9{digits:08d}"
    handle = slug(name).replace(".", "_").replace('"', "").replace(",", "").replace(" ", "")
    if medium in ("whatsapp", "sms"):
        return phone, name if medium == "whatsapp" else None
    if medium in ("twitter", "instagram"):
        return f"@{handle}{k}", name
    if medium == "email":
        return f"{handle.strip('=+-@_')}.{k}@mail.example", name
    if medium == "facebook":
        return str(100_000_000_000 + k * 37), name
    return f"visitante-{k:06d}", None  # web-messenger: anonymous until identified
