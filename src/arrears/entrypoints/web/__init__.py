"""Server-rendered pages on the API's app: the public credential check, staff sign-in and the
collector workbench, borrower sign-in and portal (Jinja2, htmx for partial updates, Babel
catalogs for zh-CN and en)."""
