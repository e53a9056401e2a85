"""Photos attached to resident reports: checked, re-encoded, stripped of metadata.

Only JPEG, PNG and WebP are accepted (decided by decoding, never by the file name or the declared type), up to the
configured size in bytes and pixels (decompression bombs are refused by Pillow's own limit, lowered here). The image
is rotated upright from its EXIF orientation, converted to RGB, shrunk to fit ``max_side`` and saved as a new JPEG:
no EXIF (GPS, device), no ICC profile, no comments survive.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from anju.resident.abuse import InputError

__all__ = ["ALLOWED_FORMATS", "reencode_photo"]

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_PIXELS = 40_000_000


def reencode_photo(data: bytes, *, max_bytes: int, max_side: int, quality: int = 82) -> bytes:
    """The photo as a clean JPEG; raises :class:`~anju.resident.abuse.InputError` with the reason otherwise."""
    if not data:
        raise InputError("照片为空 / the photo is empty")
    if len(data) > max_bytes:
        raise InputError(f"照片过大：{len(data) // 1024} KB，最多 {max_bytes // 1024} KB / photo too large")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            if fmt not in ALLOWED_FORMATS:
                raise InputError(f"不支持的图片格式 {fmt}；请用 JPEG、PNG 或 WebP / unsupported image format")
            w, h = probe.size
            if w * h > MAX_PIXELS:
                raise InputError(f"图片像素过多 ({w}×{h}) / too many pixels")
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            img = img.convert("RGB")
            img.thumbnail((max_side, max_side))
            out = io.BytesIO()
            img.save(out, format="JPEG", quality=quality, optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InputError(f"无法识别的图片 / not a readable image ({type(exc).__name__})") from exc
    return out.getvalue()
