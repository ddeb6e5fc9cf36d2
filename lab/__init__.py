"""An offline lab of the Exchange on-premises + Exchange Online / EOP hybrid mail topology."""

__version__ = "0.1.0"
