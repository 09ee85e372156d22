"""One router per area, each thin: parse → scope check → handler or query → document."""
