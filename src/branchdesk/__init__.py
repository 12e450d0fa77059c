"""branchdesk: the customer-facing service platform of bank branches.

One package, three ways in: the JSON API (/api/v1), server-rendered HTML pages and the
`branchdesk` command line. See docs/ and ARCHITECTURE in the project README.
"""

__version__ = "0.1.0"
