"""The rule expression language: our own lexer, parser, typed AST and type checker.

Expressions in rule files are parsed here into an AST from a small whitelisted
grammar and type-checked against the pack's names; nothing is ever ``eval``'d.
"""
