"""Server-rendered pages on the API's app: the public credential check, staff sign-in and the
collector workbench, the supervisor's and the compliance dashboards, borrower sign-in and
portal with plans, disputes, complaints and evidence (Jinja2, htmx for partial updates,
server-drawn SVG charts, Babel catalogs for zh-CN and en)."""
