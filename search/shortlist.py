"""The shortlist: service ids kept in the session, so it works without signing in."""

SESSION_KEY = "directory_shortlist"
MAX_ITEMS = 20


def parse_ids(value: str | list | None, *, limit: int = MAX_ITEMS) -> list[int]:
    """``"3,5,x,3"`` -> ``[3, 5]``: numbers only, no repeats, at most ``limit``."""
    if isinstance(value, list):
        value = ",".join(value)
    ids: list[int] = []
    for part in (value or "").replace(" ", ",").split(","):
        if part.isdigit() and int(part) not in ids and int(part) < 2**63:
            ids.append(int(part))
    return ids[:limit]


def shortlist_ids(session) -> list[int]:
    return parse_ids([str(item) for item in session.get(SESSION_KEY, [])])


def shortlist_add(session, *, service_id: int) -> bool:
    """Add a service; False if the shortlist is full."""
    ids = shortlist_ids(session)
    if service_id in ids:
        return True
    if len(ids) >= MAX_ITEMS:
        return False
    session[SESSION_KEY] = [*ids, service_id]
    return True


def shortlist_remove(session, *, service_id: int) -> None:
    session[SESSION_KEY] = [item for item in shortlist_ids(session) if item != service_id]


def shortlist_clear(session) -> None:
    session[SESSION_KEY] = []
