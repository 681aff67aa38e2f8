"""CSV for Excel (issue 22), read back the way its reader reads it.

The spec's worked example, with formula-like agent names planted, is exported
plain and `excel` in both languages. The files are compared field by field
(only decimals change, `.` → the locale's mark), and LibreOffice Calc, told the
locale by its CSV filter's language token, converts the Excel files to XLSX:
every column lands in its own cell, every decimal is a number equal to the
plain file's, and no planted formula becomes one (`docs/decisions.md`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from helpers import EXAMPLE, read_ndjson, write_ndjson

from cxport.cli import main
from cxport.errors import UsageError
from cxport.exports import ExportRequest, run_exports
from cxport.exports.catalogue import ColType
from cxport.exports.defs import EXPORTS
from cxport.exports.runner import _shared_key, export_def
from cxport.ingest import ingest_files
from cxport.store import open_store

SOFFICE = shutil.which("soffice")
needs_soffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice Calc (soffice) is not installed; CI installs it"
)

# Agent names that spreadsheets take for formulas (`exports.md`, formula guard),
# and a team name holding both delimiters.
PLANTED = {"a-ana": "=1+1", "a-bruno": "@SUM(A1:A9)", "a-carla": "+cmd|' /C calc'!A0"}
TEAM = "SAC; Vendas, 1º nível"
# LibreOffice's CSV filter takes the locale as a Windows language id (token 6).
LCID = {"en": 1033, "pt-BR": 1046}
NUMBERS = (ColType.COUNT, ColType.DURATION, ColType.DECIMAL2)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("excel")
    records: list[dict[str, Any]] = []
    for r in read_ndjson(EXAMPLE):
        if r["type"] == "agent":
            r = {**r, "name": PLANTED[r["agent_id"]]}
        elif r["type"] == "team" and r["team_id"] == "t-sac":
            r = {**r, "name": TEAM}
        records.append(r)
    source = write_ndjson(tmp / "planted.ndjson", records)
    con = open_store(tmp / "store.duckdb")
    try:
        ingest_files(con, [str(source)])
    finally:
        con.close()
    return tmp / "store.duckdb"


def request(export: str, lang: str, **file: Any) -> ExportRequest:
    return ExportRequest(
        export=export,
        date_from=dt.date(2024, 6, 19),
        date_to=dt.date(2024, 6, 21),
        tz="America/Sao_Paulo",
        as_of=dt.datetime(2024, 6, 22, 12, tzinfo=dt.UTC),
        lang=lang,
        **file,
    )


def export_all(db: Path, out: Path, jobs: dict[str, ExportRequest]) -> dict[str, Path]:
    """Every job in one `run_exports` call (one snapshot per shared request)."""
    out.mkdir(exist_ok=True)
    paths = {name: out / f"{name}.csv" for name in jobs}
    con = open_store(db)
    try:
        run_exports(con, [(jobs[name], paths[name]) for name in jobs])
    finally:
        con.close()
    return paths


def parse(raw: bytes, delimiter: str) -> list[list[str]]:
    text = raw.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def with_decimal(export: str, rows: list[list[str]], mark: str) -> list[list[str]]:
    """`rows` (a header, then data) with `mark` as the decimal mark of decimal columns."""
    types = [c.type for c in export_def(export).columns]
    data = [
        [
            v.replace(".", mark) if t is ColType.DECIMAL2 else v
            for t, v in zip(types, row, strict=True)
        ]
        for row in rows[1:]
    ]
    return [rows[0], *data]


@pytest.mark.parametrize("lang", ["en", "pt-BR"])
def test_excel_files_change_only_the_delimiter_and_decimals(
    db: Path, tmp_path: Path, lang: str
) -> None:
    jobs: dict[str, ExportRequest] = {}
    for d in EXPORTS:
        jobs[d.name] = request(d.name, lang)
        jobs[f"{d.name}.excel"] = request(d.name, lang, excel=True)
        assert _shared_key(jobs[d.name]) == _shared_key(jobs[f"{d.name}.excel"])
    paths = export_all(db, tmp_path, jobs)
    delimiter, decimal = {"en": (",", "."), "pt-BR": (";", ",")}[lang]
    for d in EXPORTS:
        raw = paths[f"{d.name}.excel"].read_bytes()
        assert raw.startswith("\ufeff".encode())
        plain = parse(paths[d.name].read_bytes(), ",")
        excel = parse(raw, delimiter)
        assert excel == with_decimal(d.name, plain, decimal)
        assert raw.count(b"\r\n") == len(excel) and raw.endswith(b"\r\n")  # each record ends CRLF


def test_delimiter_and_decimal_override_each(db: Path, tmp_path: Path) -> None:
    jobs = {
        "plain": request("teams", "en"),
        "tab": request("teams", "en", delimiter="\t"),
        "comma": request("teams", "en", decimal=","),
        "excel-pipe": request("teams", "pt-BR", excel=True, delimiter="|", decimal="."),
    }
    paths = export_all(db, tmp_path, jobs)
    plain = parse(paths["plain"].read_bytes(), ",")
    raw = {name: p.read_bytes() for name, p in paths.items()}
    assert b"\r" not in raw["tab"] and not raw["tab"].startswith("\ufeff".encode())
    assert parse(raw["tab"], "\t") == plain
    # `,` decimals in a `,` file: quoted, and read back as the same fields.
    assert b'"1515,00"' in raw["comma"]
    assert parse(raw["comma"], ",") == with_decimal("teams", plain, ",")
    assert raw["excel-pipe"].startswith("\ufeff".encode()) and b"\r\n" in raw["excel-pipe"]
    assert parse(raw["excel-pipe"], "|")[1:] == plain[1:]


@pytest.mark.parametrize(
    ("field", "value"),
    [("delimiter", "x"), ("delimiter", ",,"), ("delimiter", '"'), ("decimal", ";")],
)
def test_bad_file_options_name_the_field(field: str, value: str) -> None:
    with pytest.raises(UsageError, match=f"^{field}: "):
        request("teams", "en", **{field: value})


@pytest.mark.parametrize("field", ["excel", "delimiter", "decimal"])
def test_file_options_are_csv_only(field: str) -> None:
    value = {"excel": True, "delimiter": ";", "decimal": ","}[field]
    with pytest.raises(UsageError, match=f"^{field}: only for CSV"):
        request("teams", "en", format="parquet", **{field: value})


def test_cli_options_reach_the_file(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "teams.csv"
    args = ["export", "teams", "--db", str(db), "--from", "2024-06-19", "--to", "2024-06-21"]
    args += ["--tz", "America/Sao_Paulo", "--as-of", "2024-06-22T12:00:00Z", "--lang", "pt-BR"]
    done = CliRunner().invoke(main, [*args, "--excel", "--output", str(out)])
    assert done.exit_code == 0, done.output
    assert (
        out.read_bytes().startswith("\ufeffCriado em;".encode())
        and b";1515,00;" in out.read_bytes()
    )
    done = CliRunner().invoke(main, [*args, "--delimiter", "tab", "--output", str(out)])
    assert done.exit_code == 2 and "delimiter: expected one of" in done.output
    done = CliRunner().invoke(main, [*args, "--decimal", ",", "--delimiter", ";", "--output", "-"])
    assert (
        done.exit_code == 0 and done.output.startswith("Criado em;") and ";1515,00;" in done.output
    )


def to_xlsx(csv_files: list[Path], delimiter: str, lang: str, work: Path) -> list[Path]:
    """LibreOffice Calc's import of `csv_files`, as XLSX files in a folder of `work`.

    CSV filter tokens: field separator, text delimiter (34 = "), charset 76
    (UTF-8), first line 1, no column formats, the locale (Windows language id),
    quoted fields not forced to text, no special-number detection, tokens 9 to
    12 (export only) empty, and 13 = evaluate formulas, as Excel does on open.
    """
    assert SOFFICE is not None
    tokens = [str(ord(delimiter)), "34", "76", "1", "", str(LCID[lang]), "false", "false"]
    tokens += ["", "", "", "", "true"]
    profile = work / "lo-profile"  # its own, so tests never share LibreOffice state
    out = work / f"xlsx-{lang}-{ord(delimiter)}"
    done = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            f"--infilter=Text - txt - csv (StarCalc):{','.join(tokens)}",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            *map(str, csv_files),
        ],
        capture_output=True,
        timeout=300,
        check=False,
    )
    xlsx = [out / f"{p.stem}.xlsx" for p in csv_files]
    assert done.returncode == 0 and all(p.is_file() for p in xlsx), done.stderr.decode()
    return xlsx


def cells(xlsx: Path) -> list[list[openpyxl.cell.Cell]]:
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows()]


SHEET_EXPORTS = ("teams", "agent-metrics")  # every decimal column, the planted names


@needs_soffice
@pytest.mark.parametrize("lang", ["en", "pt-BR"])
def test_calc_in_the_locale_reads_every_cell_and_decimal(
    db: Path, tmp_path: Path, lang: str
) -> None:
    jobs: dict[str, ExportRequest] = {}
    for name in SHEET_EXPORTS:
        jobs[f"{name}.plain"] = request(name, lang)
        jobs[name] = request(name, lang, excel=True)
    paths = export_all(db, tmp_path, jobs)
    delimiter = {"en": ",", "pt-BR": ";"}[lang]
    xlsx = to_xlsx([paths[name] for name in SHEET_EXPORTS], delimiter, lang, tmp_path)
    decimals = 0
    for name, book in zip(SHEET_EXPORTS, xlsx, strict=True):
        plain = parse(paths[f"{name}.plain"].read_bytes(), ",")
        sheet = cells(book)
        assert len(sheet) == len(plain)
        columns = export_def(name).columns
        for plain_row, row in zip(plain, sheet, strict=True):
            assert len(row) == len(columns)  # every column in its own cell
            if plain_row is plain[0]:
                assert [c.value for c in row] == plain_row
                continue
            for col, v, cell in zip(columns, plain_row, row, strict=True):
                assert cell.data_type != "f", (name, col.en, cell.value)
                if v == "":
                    assert cell.value is None
                elif col.type in NUMBERS:
                    assert isinstance(cell.value, int | float), (name, col.en, cell.value)
                    assert cell.value == float(v)
                    decimals += col.type is ColType.DECIMAL2
                else:
                    assert cell.value == v, (name, col.en)
    assert decimals == 9  # every decimal of the example (5 in teams, 4 in agent-metrics)
    names = {c.value for row in cells(xlsx[1]) for c in row if isinstance(c.value, str)}
    assert {"'" + n for n in PLANTED.values()} <= names  # guarded: text after the round trip
    assert TEAM in {c.value for row in cells(xlsx[0]) for c in row}


@needs_soffice
def test_calc_would_run_an_unguarded_formula_and_misread_another_locale(
    db: Path, tmp_path: Path
) -> None:
    """The check above can fail: without the guard `=1+1` comes back a formula,
    and the en file read in the pt-BR locale does not give its decimals."""
    jobs = {
        "unguarded": request("agent-metrics", "pt-BR", excel=True, formula_guard=False),
        "en": request("teams", "en", excel=True),
        "en.plain": request("teams", "en"),
    }
    paths = export_all(db, tmp_path, jobs)
    sheet = cells(to_xlsx([paths["unguarded"]], ";", "pt-BR", tmp_path)[0])
    formulas = [c.value for row in sheet for c in row if c.data_type == "f"]
    assert formulas == ["=1+1"]
    misread = cells(to_xlsx([paths["en"]], ",", "pt-BR", tmp_path / "other")[0])
    plain = parse(paths["en.plain"].read_bytes(), ",")
    column = [c.en for c in export_def("teams").columns].index("Average First Response Time (s)")
    assert plain[1][column] == "1515.00"
    assert misread[1][column].value != 1515.0
