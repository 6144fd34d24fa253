"""A notebook-first workbook for infrared small target detection."""
__version__ = "0.1.0"
