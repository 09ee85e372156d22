"""Ways out for notifications: SMTP email, SMS gateways over HTTP, call tasks for collectors
and dialers, PDF letters, local file sinks; and the Jinja2 renderer of their templates.

Every adapter implements `arrears.application.notifications.Channel`, opens nothing in its
constructor, and sends the message's stable id to the receiving side.
"""
