"""Compilers from the expression AST to executable forms (closures now; others later)."""
