"""How the site writes money, shared by templates, PDFs and messages."""


def format_pence(pence: int) -> str:
    """Integer pence as pounds: 2150 -> £21.50, -500 -> -£5.00, 123456 -> £1,234.56."""
    pounds, pennies = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}£{pounds:,}.{pennies:02d}"
