"""Why a link gives no usable answer: the reasons any stage that reaches a site may end a case
with, so url-verify and content-check (which fetches again later) mean the same by them."""

from __future__ import annotations

from pipeline.lookups.links import LinkCheck
from pipeline.runtime.reasons import ReasonCode


class LinkFailure(ReasonCode):
    does_not_resolve = "does_not_resolve", "The link's domain does not exist."
    no_address = "no_address", "The link's domain has no address to connect to."
    cname_chain = (
        "cname_chain",
        "The link's domain is an alias (CNAME) chain that loops or goes on past 16 names.",
    )
    forbidden_address = (
        "forbidden_address",
        "The link points to a private or local network address.",
    )
    scheme_not_allowed = "scheme_not_allowed", "Only http and https links can be checked."
    too_many_redirects = "too_many_redirects", "The link redirects too many times."
    unreachable = "unreachable", "The site could not be reached after several tries."
    refused = "refused", "The site refuses to show the page."


# A check's `problem` (pipeline/lookups/links.py) as a reason; any other problem (a timeout, a
# refused connection, a broken answer) is a site that could not be reached.
_PROBLEMS = {
    "dns_nxdomain": LinkFailure.does_not_resolve,
    "dns_no_address": LinkFailure.no_address,
    "dns_cname_chain": LinkFailure.cname_chain,
    "forbidden_address": LinkFailure.forbidden_address,
    "scheme_not_allowed": LinkFailure.scheme_not_allowed,
    "too_many_redirects": LinkFailure.too_many_redirects,
}


def link_failure(check: LinkCheck) -> LinkFailure | None:
    """Why the link gave no usable answer, or None if it did.

    Called with the last try's check: a transient failure here has used up its tries.
    """
    if check.problem is not None:
        return _PROBLEMS.get(check.problem, LinkFailure.unreachable)
    status = check.status or 0
    if status >= 500 or status == 429:
        return LinkFailure.unreachable
    return None
