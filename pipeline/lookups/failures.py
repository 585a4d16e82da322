"""Why a case ends early: every reason code a stage may give a terminated case, with the sentence
the reporter can be told. One table, so codes mean the same thing whichever stage sets them."""

from __future__ import annotations

from pipeline.lookups.links import LinkCheck

REASONS = {
    # url-verify: the link itself does not work.
    "does_not_resolve": "The link's domain does not exist.",
    "no_address": "The link's domain has no address to connect to.",
    "forbidden_address": "The link points to a private or local network address.",
    "scheme_not_allowed": "Only http and https links can be checked.",
    "not_found": "The site answers that the page does not exist (404).",
    "gone": "The site answers that the page was removed (410).",
    "refused": "The site refuses to show the page.",
    "too_many_redirects": "The link redirects too many times.",
    "unreachable": "The site could not be reached after several tries.",
    # content-check: the link works, but there is nothing to act on.
    "content_removed": "The content has been removed from the site.",
    "empty_page": "The page is empty.",
    "not_text_or_media": "The link leads to a file that is neither a page, a document nor media.",
}

_PROBLEM_REASONS = {
    "dns_nxdomain": "does_not_resolve",
    "dns_no_address": "no_address",
    "forbidden_address": "forbidden_address",
    "scheme_not_allowed": "scheme_not_allowed",
    "too_many_redirects": "too_many_redirects",
}


def link_failure(check: LinkCheck) -> str | None:
    """The reason code of a link that did not give a usable answer, or None if it did.

    Called with the last try's check: a transient failure here has used up its tries.
    """
    if check.problem is not None:
        return _PROBLEM_REASONS.get(check.problem, "unreachable")
    status = check.status or 0
    if status >= 500 or status == 429:
        return "unreachable"
    return None


def explain(reason: str, detail: str | int | None) -> str:
    """The reporter's sentence with the technical detail after it, for the case's facts."""
    return f"{REASONS[reason]} ({detail})"
