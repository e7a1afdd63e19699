"""survhte: heterogeneous treatment effects on censored survival outcomes."""

__version__ = "0.1.0.dev0"
