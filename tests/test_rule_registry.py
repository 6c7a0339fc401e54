"""The rule registry (extractor/rules.py) is the one list: verify runs it, the README names it, and every
finding the checker gives belongs to a registered rule with no more authority than the rule has."""

from __future__ import annotations

import json
import re
from pathlib import Path

from extractor.cli import main
from extractor.equations import EQUATION_RULES, report_equations
from extractor.findings import Finding
from extractor.pipeline import recheck
from extractor.rules import ALL_RULES, REPORT_RULES, RULES_BY_ID, YEAR_RULES
from extractor.schema import Report, get_int, set_cell

from evals.dataset import DEFAULT_SAMPLES_DIR

ROOT = Path(__file__).resolve().parents[1]
RULE_ID = re.compile(r"(?<![\w.-])(?:R\d\.\d|R-[A-Z]\d|G\d)(?![\w.])")
STRENGTH = {"heuristic": 0, "derived": 1, "official": 2}


def _checker_bullet() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What it does", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^- \*\*Checker\*\*.*?(?=^- \*\*|\Z)", section, re.S | re.M)
    assert match, "README: no **Checker** bullet under 'What it does'"
    return match.group(0)


def test_the_readme_checker_bullet_names_exactly_the_registered_rules() -> None:
    named = set(RULE_ID.findall(_checker_bullet()))
    registered = set(RULES_BY_ID)
    assert registered - named == set(), f"README's Checker bullet does not mention {sorted(registered - named)}"
    assert named - registered == set(), f"README's Checker bullet names unregistered rules {sorted(named - registered)}"


def test_the_registry_agrees_with_the_equations_it_runs() -> None:
    assert {r.id for r in REPORT_RULES if r.kind == "equation"} == EQUATION_RULES
    assert {r.id for r in YEAR_RULES} == {"R-Y1", "R-Y2"} and all(r.kind == "year" for r in YEAR_RULES)
    gold = Report.model_validate(json.loads((DEFAULT_SAMPLES_DIR / "001_8d25aa58008aa371.json").read_text(encoding="utf-8")))
    for eq in report_equations(gold):
        assert RULES_BY_ID[eq.rule].authority == eq.authority, eq.rule
    for rule in ALL_RULES:
        assert rule.zh.strip() and rule.en.strip() and rule.spec.strip(), rule.id


def _perturbed(report: Report) -> list[Report]:
    """The sample, and copies with errors planted that make the single-report rules fire."""
    out = [report]
    bad = report.model_copy(deep=True)
    if bad.applications:
        set_cell(bad, "applications.granted[0]", -1)
        set_cell(bad, "applications.total[6]", (get_int(bad, "applications.total[6]") or 0) + 7)
    if bad.review_litigation is not None:
        set_cell(bad, "review_litigation.review.upheld", -2)
    set_cell(bad, "active_disclosure.regulations.made" if bad.template == "2019" else "active_disclosure.regulations.issued", 2)
    if bad.template == "2019":
        set_cell(bad, "active_disclosure.licensing.change", -((get_int(bad, "active_disclosure.licensing.prev_items") or 0) + 5))
        set_cell(bad, "active_disclosure.punishment.prev_items", -3)
    elif bad.applications and "other_overdue_fee" in bad.applications:
        set_cell(bad, "applications.other_overdue_fee[6]", 3)
    bad.agency = "某县某镇人民政府"
    bad.year = (bad.year or 2020) + (3 if bad.template == "2019" else -3)
    out.append(bad)
    return out


def test_every_registered_rule_runs_and_its_findings_keep_to_its_authority() -> None:
    fired: set[str] = set()
    for gold_path in sorted(DEFAULT_SAMPLES_DIR.glob("*.json")):
        source = next((gold_path.with_suffix(s) for s in (".txt", ".html") if gold_path.with_suffix(s).exists()), None)
        if source is None:
            continue
        gold = Report.model_validate(json.loads(gold_path.read_text(encoding="utf-8")))
        text = source.read_text(encoding="utf-8") if source.suffix == ".txt" else None
        if text is None:
            continue
        for report in _perturbed(gold):
            findings, _ = recheck(report, text)
            for f in findings:
                rule = RULES_BY_ID.get(f.rule)
                assert rule is not None and rule in REPORT_RULES, f"unregistered rule {f.rule}: {f.message}"
                assert STRENGTH[f.authority] <= STRENGTH[rule.authority], (f.rule, f.authority)
                if f.rule != "R-F1":  # R-F1's form checks other than the year's format are derived
                    assert f.authority == rule.authority, (f.rule, f.authority)
                fired.add(f.rule)
    assert fired == {r.id for r in REPORT_RULES}, f"registered but never fired: {sorted({r.id for r in REPORT_RULES} - fired)}"


def test_nianbao_rules_lists_the_registry(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["rules", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in listed] == [r.id for r in ALL_RULES]
    assert all(r["zh"] and r["en"] and r["authority"] in STRENGTH for r in listed)


def test_year_rules_run_through_the_pair_entry_point(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`check --previous` runs the registry's year rules: a broken carry-over between two real reports."""
    earlier = json.loads((DEFAULT_SAMPLES_DIR / "d002.json").read_text(encoding="utf-8"))
    later = json.loads((DEFAULT_SAMPLES_DIR / "d003.json").read_text(encoding="utf-8"))
    assert later["year"] - earlier["year"] == 1
    earlier["applications"]["carried_forward"][6] = (later["applications"]["carried_over"][6] or 0) + 4
    (tmp_path / "earlier.json").write_text(json.dumps(earlier, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "later.json").write_text(json.dumps(later, ensure_ascii=False), encoding="utf-8")
    code = main(["check", str(tmp_path / "later.json"), "--previous", str(tmp_path / "earlier.json"), "--json"])
    assert code == 0
    findings = [Finding.model_validate(f) for f in json.loads(capsys.readouterr().out)["findings"]]
    carry = [f for f in findings if f.rule == "R-Y1"]
    assert len(carry) == 1 and carry[0].cells == ["applications.carried_over[6]"]
    assert carry[0].authority == RULES_BY_ID["R-Y1"].authority
