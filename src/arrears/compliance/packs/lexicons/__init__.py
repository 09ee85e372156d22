"""Wording lexicons (data files): en.toml, zh.toml and the t2s.txt character map."""
