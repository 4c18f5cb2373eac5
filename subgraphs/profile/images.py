"""Avatar images: read an upload with a size bound, decide its type by content, re-encode it.

Only the pixels survive: the decoded image is copied into a fresh one (no EXIF, ICC profile,
text chunks, XMP or comments), oriented per its EXIF first, downscaled to fit 512x512 and
written as WebP. The client's file name and content type are never consulted.
"""

from __future__ import annotations

import io
from typing import Final, Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

from shared.errors import BadUserInput

MAX_AVATAR_BYTES: Final = 2 * 1024 * 1024  # 2 MiB, the upload as sent
MAX_SOURCE_SIDE: Final = 4096  # width and height of the decoded source image
# Pixels of the source image, read from its header before anything is decoded: 16 megapixels
# (a 12 MP phone photo fits; a 4096x4096 image, about 100 ms of CPU to decode, does not).
MAX_SOURCE_PIXELS: Final = 16_000_000
# Pillow's own bomb check at open uses the same bound (a warning above it, an error above twice).
Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS
OUTPUT_SIDE: Final = 512  # the stored avatar fits in OUTPUT_SIDE x OUTPUT_SIDE
OUTPUT_FORMAT: Final = "WEBP"
OUTPUT_EXTENSION: Final = ".webp"
# Pillow plugins tried when identifying the content; MPO is the multi-picture JPEG variant.
ACCEPTED_FORMATS: Final = ("PNG", "JPEG", "WEBP")
_ACCEPTED_DETECTED: Final = frozenset({"PNG", "JPEG", "MPO", "WEBP"})
_CHUNK: Final = 64 * 1024

FIELD: Final = "file"


class Readable(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


async def read_limited(upload: Readable, limit: int = MAX_AVATAR_BYTES) -> bytes:
    """The upload's bytes; BAD_USER_INPUT as soon as more than `limit` arrive (at most
    `limit + 1` bytes are ever held)."""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = await upload.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise BadUserInput(f"The avatar must be at most {limit} bytes", field=FIELD)
    if size == 0:
        raise BadUserInput("The avatar file is empty", field=FIELD)
    return b"".join(parts)


def _unsupported() -> BadUserInput:
    return BadUserInput("The avatar must be a PNG, JPEG or WebP image", field=FIELD)


def _too_large() -> BadUserInput:
    return BadUserInput(
        f"The avatar must be at most {MAX_SOURCE_SIDE}x{MAX_SOURCE_SIDE} pixels and "
        f"{MAX_SOURCE_PIXELS // 1_000_000} megapixels",
        field=FIELD,
    )


def reencode(data: bytes) -> bytes:
    """Validate `data` as a PNG, JPEG or WebP image and return it re-encoded as WebP.

    CPU-bound: run it in a worker thread.
    """
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as source:
            if source.format not in _ACCEPTED_DETECTED:  # pragma: no cover - formats= bounds it
                raise _unsupported()
            width, height = source.size
            if not (1 <= width <= MAX_SOURCE_SIDE and 1 <= height <= MAX_SOURCE_SIDE):
                raise _too_large()
            if width * height > MAX_SOURCE_PIXELS:
                raise _too_large()
            if source.format in ("JPEG", "MPO"):
                # Decode at a reduced scale when the JPEG is much larger than the output.
                source.draft("RGB", (OUTPUT_SIDE, OUTPUT_SIDE))
            source.load()
            oriented = ImageOps.exif_transpose(source)
            mode = "RGBA" if _has_alpha(oriented) else "RGB"
            converted = oriented.convert(mode)
    except BadUserInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own bound (Image.MAX_IMAGE_PIXELS), met when the header is read.
        raise _too_large() from None
    except UnidentifiedImageError:
        raise _unsupported() from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError):
        # Truncated or corrupt data the decoder could not read.
        raise BadUserInput("The avatar image could not be decoded", field=FIELD) from None
    converted.thumbnail((OUTPUT_SIDE, OUTPUT_SIDE), Image.Resampling.LANCZOS)
    # A fresh image: nothing of the source but its pixels (no info dict, no EXIF, no ICC).
    clean = Image.new(mode, converted.size)
    clean.paste(converted)
    out = io.BytesIO()
    clean.save(out, OUTPUT_FORMAT, quality=85, method=4)
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
