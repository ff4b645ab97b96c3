"""The EU importers (Formex XML, EUR-Lex XHTML) on small documents and on the official ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ImportFailed
from app.importers.eurlex_html import parse_eurlex_html
from app.importers.formex import parse_formex

CONS_ACT = b"""<?xml version="1.0" encoding="UTF-8"?>
<CONS.ACT><INFO.CONSLEG/><CONS.DOC>
<BIB.INSTANCE.CONS><DATE ISO="20240801">20240801</DATE></BIB.INSTANCE.CONS>
<TITLE><TI><P>Regulation (EU) 2099/1 of the European Parliament and of the Council</P>
<P>on testing (Test Regulation)</P></TI></TITLE>
<ENACTING.TERMS>
<DIVISION><TITLE><TI><P>CHAPTER I</P></TI><STI><P>General provisions</P></STI></TITLE>
<ARTICLE IDENTIFIER="001"><TI.ART>Article 1</TI.ART><STI.ART>Subject matter</STI.ART>
<PARAG IDENTIFIER="001.001"><NO.PARAG>1.</NO.PARAG><ALINEA>This Regulation lays down rules:
<LIST TYPE="alpha"><ITEM><NP><NO.P>(a)</NO.P><TXT>on tests;</TXT></NP></ITEM>
<ITEM><NP><NO.P>(b)</NO.P><TXT>on <QUOT.START CODE="2018"/>quotes<QUOT.END CODE="2019"/>
.</TXT></NP></ITEM></LIST></ALINEA></PARAG>
<PARAG IDENTIFIER="001.002"><NO.PARAG>2.</NO.PARAG><ALINEA>It applies to:
<LIST><ITEM><P>dash one;</P></ITEM><ITEM><P>dash two.</P></ITEM></LIST></ALINEA></PARAG>
</ARTICLE>
<ARTICLE IDENTIFIER="002"><TI.ART>Article 2</TI.ART><STI.ART>Definitions</STI.ART>
<ALINEA>For the purposes of this Regulation:<LIST TYPE="ARAB">
<ITEM><NP><NO.P>(1)</NO.P><TXT>'test' means a trial<NOTE NOTE.ID="N1"><P>A note.</P></NOTE>;</TXT>
</NP></ITEM></LIST></ALINEA></ARTICLE>
</DIVISION></ENACTING.TERMS></CONS.DOC></CONS.ACT>"""


def nodes(doc):  # type: ignore[no-untyped-def]
    return {n.ref: n for _, n in doc.walk()}


def test_formex_consolidated_act(tmp_path: Path) -> None:
    doc = parse_formex(CONS_ACT, tmp_path / "cons.xml")
    n = nodes(doc)
    assert doc.version_label == "2024-08-01"
    assert doc.short_title == "Test Regulation"
    assert list(n) == ["Chapter I", "Art. 1", "Art. 1(1)", "Art. 1(1)(a)", "Art. 1(1)(b)",
                       "Art. 1(2)", "Art. 2", "Art. 2(1)"]
    assert n["Chapter I"].title == "General provisions"
    assert n["Art. 1(1)"].text == "This Regulation lays down rules:"
    assert n["Art. 1(1)(b)"].text == "on ‘quotes’ ."
    assert n["Art. 1(2)"].text == "It applies to: dash one; dash two."  # dashes stay text
    assert n["Art. 2(1)"].text == "'test' means a trial;"  # the footnote is left out
    assert doc.identifiers == {"celex": "32099R0001",
                               "eli": "http://data.europa.eu/eli/reg/2099/1/oj"}


@pytest.mark.parametrize(("title", "celex", "eli"), [
    ("Regulation (EC) No 1907/2006 of the European Parliament", "32006R1907", "reg/2006/1907"),
    ("Commission Implementing Regulation (EU) 2023/1234", "32023R1234", "reg_impl/2023/1234"),
    ("Directive 95/46/EC of the European Parliament", "31995L0046", "dir/1995/46"),
])
def test_formex_consolidated_act_identifiers_from_its_title(tmp_path: Path, title: str,
                                                             celex: str, eli: str) -> None:
    """Numbers after "No" are number/year; others year/number (as the act's title says)."""
    data = CONS_ACT.replace(b"Regulation (EU) 2099/1 of the European Parliament and of the "
                            b"Council", title.encode())
    doc = parse_formex(data, tmp_path / "cons.xml")
    assert doc.identifiers == {"celex": celex, "eli": f"http://data.europa.eu/eli/{eli}/oj"}


@pytest.mark.parametrize(("data", "message"), [
    (b"<ACT><TITLE><TI><P>x</P></TI></TITLE>", "invalid XML at line 1, column"),
    (b"<?xml version='1.0'?>\n<!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 "
     b"'&lol;&lol;'>]>\n<ACT>&lol2;</ACT>", "DTD or entity declarations"),
    (b"<html><body/></html>", "not a Formex act"),
    (b"<ACT><TITLE><TI><P>An act</P></TI></TITLE><ENACTING.TERMS/></ACT>", "no articles"),
    (b"<ACT><TITLE><TI><P>An act</P></TI></TITLE></ACT>", "no enacting terms"),
])
def test_formex_bad_input(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ImportFailed, match=message):
        parse_formex(data, tmp_path / "bad.xml")


def test_eurlex_html_without_anchors_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="no EUR-Lex article anchors"):
        parse_eurlex_html(b"<html><body><p>Hello</p></body></html>", tmp_path / "x.html")


def test_eurlex_html_non_utf8_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="line 2 is not valid UTF-8"):
        parse_eurlex_html(b"<html>\n\xe9</html>", tmp_path / "x.html")


def test_official_gdpr_formex(corpus: Path) -> None:
    path = corpus / "L_2016119EN.01000101.xml"
    doc = parse_formex(path.read_bytes(), path)
    kinds = doc.count_by_kind()
    assert (kinds["article"], kinds["paragraph"], kinds["recital"], kinds["chapter"]) == (
        99, 372, 173, 11)
    n = nodes(doc)
    assert n["Art. 33(1)"].text.startswith("In the case of a personal data breach")
    assert all(node.text for node in n.values() if node.kind in ("paragraph", "recital"))


def test_official_ai_act_xhtml(corpus: Path) -> None:
    path = corpus / "AI-Act_EUR-Lex_L_202401689EN.000101.html"
    doc = parse_eurlex_html(path.read_bytes(), path)
    kinds = doc.count_by_kind()
    assert (kinds["article"], kinds["annex"], kinds["recital"], kinds["chapter"]) == (
        113, 13, 180, 13)
    n = nodes(doc)
    assert doc.version_label == "2024-06-13"
    assert doc.identifiers["celex"] == "32024R1689"
    assert n["Art. 43(1) subpara 2(a)"].kind == "point"  # the second list of Art. 43(1)
    assert [r for r in n if r.startswith("Annex VI(")] == [f"Annex VI({i})" for i in range(1, 5)]
    assert "Annex VII(3.1)(a)" in n and "Annex X(1)(a)" in n
    assert n["Chapter III Section 2"].title == "Requirements for high-risk AI systems"
    assert len(n) == sum(1 for _ in doc.walk())  # refs unique
