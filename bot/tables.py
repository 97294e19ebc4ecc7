"""The CLI's tables: columns aligned to their widest cell (rich)."""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Iterable, Sequence


def print_table(columns: Sequence[str], rows: Iterable[Sequence[object]], *, right: Iterable[int] = ()) -> None:
    """Print `rows` under a header of `columns` to standard output; `right`: the indexes of right-aligned columns
    (numbers). On a terminal the last column wraps within its width; into a pipe or a file no line is wrapped
    (one row, one line, for grep)."""
    from rich import box  # imported when a table is printed: `aurum --help` and the other commands load no more
    from rich.console import Console
    from rich.table import Table

    right = set(right)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold",
                  highlight=False)
    for index, name in enumerate(columns):
        last = index == len(columns) - 1
        table.add_column(name, justify="right" if index in right else "left", no_wrap=not last,
                         overflow="fold" if last else "ellipsis")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    terminal = sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if terminal else 10_000
    # markup off: cells are data ("[1]" or "[red]" print as they are)
    console = Console(file=io.StringIO(), width=width, markup=False, emoji=False, highlight=False,
                      force_terminal=terminal, color_system="standard" if terminal else None)
    with console.capture() as captured:
        console.print(table)
    sys.stdout.write("\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n")
