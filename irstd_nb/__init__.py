"""A notebook-first workbook for infrared small target detection."""
__version__ = "0.1.0"

def load(spec, device=None):
    "A ready model in eval mode from a run folder, a `.safetensors` file or a shipped model name (`irstd_nb.inference.load`)."
    from .inference import load as _load
    return _load(spec, device)
