"""Data only: the Trust's values, frameworks, awards, commands and message texts as YAML files.

A trust edits these files, not code. `bot.content` loads and validates them at start-up.
"""
