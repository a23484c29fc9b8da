"""Capacity bars as text cells: placed vs declared, coloured by how full."""

from __future__ import annotations

from rich.text import Text


def capacity_bar(
    placed: int, total: int | None, unit: str, colors: dict[str, str], width: int = 6
) -> Text:
    """'███░░░ 10/64' — or just the placed amount when nothing is declared."""
    if not total:
        return Text(f"{placed}{unit} placed", style=colors.get("text-muted", "dim"))
    share = placed / total
    filled = min(width, round(share * width))
    level = "error" if share > 1 else "warning" if share > 0.8 else "success"
    bar = Text("█" * filled, style=colors.get(level, "green"))
    bar.append("░" * (width - filled), style=colors.get("text-muted", "dim"))
    bar.append(f" {placed}/{total}{unit}")
    return bar
