"""The workspace's topics, tags and contact attributes, as data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    """A topic or a tag."""

    label_id: str
    name: str
    active: bool = True


@dataclass(frozen=True)
class AttributeDefinition:
    attribute_id: str
    name: str
    kind: str  # DEFAULT, CUSTOM, MEDIUM, CRM
    medium: str | None = None  # MEDIUM attributes exist for one medium


TOPICS = (
    Label("tp-entrega", "Entrega"),
    Label("tp-troca", "Troca, devolução"),
    Label("tp-pagamento", "Pagamento"),
    Label("tp-cancelamento", "Cancelamento"),
    Label("tp-cadastro", "Cadastro e acesso"),
    Label("tp-garantia", "Garantia \\ assistência técnica"),
    Label("tp-cupom", "Cupom | promoção"),
    Label("tp-nf", "Nota fiscal"),
    Label("tp-elogio", "Elogio 👏"),
    Label("tp-reclamacao", "Reclamação"),
    Label("tp-dia-das-maes", "Dia das Mães"),
    Label("tp-outros", "=Outros"),
)
TAGS = (
    Label("tg-urgente", "urgente"),
    Label("tg-vip", "VIP"),
    Label("tg-procon", "Procon"),
    Label("tg-spam", "spam"),
    Label("tg-aguardando", "aguardando retorno"),
    Label("tg-bug", "bug no app"),
    Label("tg-risco", "=risco"),
    Label("tg-elogio", "elogio", active=False),
)
ATTRIBUTES = (
    AttributeDefinition("at-email", "E-mail", "DEFAULT"),
    AttributeDefinition("at-telefone", "Telefone", "DEFAULT"),
    AttributeDefinition("at-nome", "Nome completo", "DEFAULT"),
    AttributeDefinition("at-plano", "Plano", "CUSTOM"),
    AttributeDefinition("at-cliente-desde", "Cliente desde", "CUSTOM"),
    AttributeDefinition("at-preferencia", "Canal preferido", "CUSTOM"),
    AttributeDefinition("at-wa-perfil", "Nome no perfil do WhatsApp", "MEDIUM", "whatsapp"),
    AttributeDefinition("at-ig-seguidores", "Seguidores no Instagram", "MEDIUM", "instagram"),
    AttributeDefinition("at-tw-verificado", "Conta verificada (X)", "MEDIUM", "twitter"),
    AttributeDefinition("at-crm-id", "ID no CRM", "CRM"),
    AttributeDefinition("at-segmento", "Segmento (CRM)", "CRM"),
    AttributeDefinition("at-ltv", "Valor vitalício (R$)", "CRM"),
)

# Deactivated halfway through the period (see Workspace): not applied after that.
RETIRED_TOPIC = "tp-dia-das-maes"
RETIRED_TAG = "tg-procon"
