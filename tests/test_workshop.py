"""The workshop's printed material says what PyTorch and the package do: the exit quiz's answer
key (book/quiz.md) and the cheat sheet's "same" table (book/cheatsheet.md) are computed here
and compared with the pages' text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from convtranspose.lengths import same_padding

BOOK = Path(__file__).resolve().parent.parent / "book"


def answer_key() -> dict[int, str]:
    """The quiz's answers: the bold text after each number in the folded key."""
    text = (BOOK / "quiz.md").read_text()
    key = text[text.index("{dropdown} Answer key") :]
    return {int(n): answer for n, answer in re.findall(r"^(\d+)\. \*\*(.+?)\*\*", key, re.M)}


def length(l_in: int, k: int, **arguments: int) -> int:
    """torch's output length for a one-channel input of ``l_in`` ones and a kernel of ``k``."""
    return F.conv_transpose1d(torch.ones(1, 1, l_in), torch.ones(1, 1, k), **arguments).shape[-1]


def uneven(k: int, stride: int) -> bool:
    """Ones in, ones as kernel: does the output vary away from its ends?"""
    y = F.conv_transpose1d(torch.ones(1, 1, 12), torch.ones(1, 1, k), stride=stride)[0, 0]
    middle = y[k:-k]
    return bool((middle != middle[0]).any())


def conv_then_transpose_is_identity() -> bool:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 8, generator=generator, dtype=torch.float64)
    w = torch.randn(1, 1, 3, generator=generator, dtype=torch.float64)
    return torch.allclose(F.conv_transpose1d(F.conv1d(x, w), w), x)


def output_padding_two_raises() -> bool:
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose1d(torch.ones(1, 1, 3), torch.ones(1, 1, 3), stride=2, output_padding=2)
    return True


def quiz_answers() -> dict[int, str]:
    """Each numeric question's answer, computed, as the key spells it."""
    conv_lengths = {F.conv1d(torch.ones(1, 1, n), torch.ones(1, 1, 4), stride=2, padding=1).shape[-1] for n in (8, 9)}  # fmt: skip
    (short,) = conv_lengths  # both give one length
    back = next(
        op for op in range(2) if length(short, 4, stride=2, padding=1, output_padding=op) == 9
    )
    pairs = [(3, 2), (4, 2), (5, 5), (9, 4)]
    y2 = F.conv_transpose2d(
        torch.ones(1, 1, 3, 5), torch.ones(1, 1, 3, 2), stride=(2, 3), padding=(1, 0)
    )
    return {
        1: str(length(6, 3, stride=2)),
        2: str(length(6, 3, stride=2, padding=1)),
        3: str(F.conv_transpose1d(torch.tensor([[[1.0, 2.0]]]), torch.ones(1, 1, 3))[0, 0].int().tolist()),
        4: str(back),
        5: str(length(4, 3, dilation=3)),
        6: str(tuple(torch.nn.ConvTranspose1d(4, 6, 5, groups=2).weight.shape)),
        7: " and ".join(str(pair) for pair in pairs if uneven(*pair)),
        8: str(same_padding(5, 2)),
        9: str(conv_then_transpose_is_identity()),
        10: " \N{MULTIPLICATION SIGN} ".join(map(str, y2.shape[-2:])),
        11: "An error" if output_padding_two_raises() else "",
    }  # fmt: skip


@pytest.mark.parametrize("number", range(1, 12))
def test_quiz_answer_is_torchs(number: int) -> None:
    assert answer_key()[number] == quiz_answers()[number]


def test_quiz_has_an_answer_per_question() -> None:
    text = (BOOK / "quiz.md").read_text()
    questions = re.findall(r"^(\d+)\. ", text[: text.index("{dropdown}")], re.M)
    assert sorted(answer_key()) == sorted(map(int, questions))


def same_table() -> list[tuple[int, int, int, int]]:
    text = (BOOK / "cheatsheet.md").read_text()
    rows = re.findall(r"^\| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", text, re.M)
    return [tuple(map(int, row)) for row in rows]


def test_cheat_sheet_same_table() -> None:
    rows = same_table()
    assert len(rows) >= 5
    for k, stride, padding, output_padding in rows:
        assert same_padding(k, stride) == (padding, output_padding)
        for l_in in (1, 5, 8):  # torch agrees: the length is multiplied by the stride
            got = length(l_in, k, stride=stride, padding=padding, output_padding=output_padding)
            assert got == stride * l_in


def test_cheat_sheet_prints_on_one_page(site_url: str, tmp_path: Path) -> None:
    """The built page, printed to PDF by Chromium (as an instructor would), is one A4 page
    that keeps the title and the table."""
    import base64

    from browser import start_chromium
    from selenium.webdriver.common.print_page_options import PrintOptions

    driver = start_chromium(tmp_path / "profile")
    try:
        driver.get(f"{site_url}book/cheatsheet.html")
        options = PrintOptions()
        options.page_width, options.page_height = 21.0, 29.7  # A4, in cm
        pdf = base64.b64decode(driver.print_page(options))
        text = driver.find_element("tag name", "body").text
    finally:
        driver.quit()
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    assert "Cheat sheet" in text and "same_padding" in text


def slot(number: str) -> str:
    """The workshop page's paragraph for one slot ("**5. Output padding.** ...")."""
    text = (BOOK / "workshop.md").read_text()
    start = text.index(f"\n**{number}. ")
    return text[start : text.index("\n\n", start + 1)]


def checkpoint_answers() -> dict[str, str]:
    """The answer each slot's checkpoint question gives, computed, as the page writes it."""
    conv = F.conv1d(torch.ones(1, 1, 10), torch.ones(1, 1, 3)).shape[-1]
    op = next(o for o in range(2) if length(4, 3, stride=2, padding=1, output_padding=o) == 8)
    weight = tuple(torch.nn.ConvTranspose1d(8, 4, 5, groups=4).weight.shape)
    two_d = F.conv_transpose2d(torch.ones(1, 1, 5, 7), torch.ones(1, 1, 3, 3), stride=2).shape
    return {
        "1": f"({conv}.)",
        "2": f"({length(5, 4)}.)",
        "4": f"({length(4, 3, stride=2, padding=1)}.)",
        "5": f"({op}.)",
        "6": f"({length(5, 3, dilation=2)}.)",
        "7": f"(`{weight}`.)",
        "10": "(No:" if uneven(6, 4) else "(Yes",
        "13": f"({two_d[-2]}\N{MULTIPLICATION SIGN}{two_d[-1]}.)",
        "14": f"(`same_padding(16, 8) = {same_padding(16, 8)}`.)",
    }


@pytest.mark.parametrize("number", ["1", "2", "4", "5", "6", "7", "10", "13", "14"])
def test_workshop_checkpoint_answer_is_torchs(number: str) -> None:
    assert checkpoint_answers()[number] in slot(number)
