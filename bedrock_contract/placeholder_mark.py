"""The mark the mock puts on its placeholder images, in one place: the mock writes its
parameters under it, and the client reads it to tell a placeholder from a real image (the
two packages do not import each other; both import the contract)."""

PARAMETERS_KEY = "sdxl-mock"  # the PNG text chunk's keyword
COMMENT_PREFIX = f"{PARAMETERS_KEY}:"  # a JPEG comment: the prefix, then the JSON
XMP_NAMESPACE = "https://sdxl-bedrock.local/ns/mock/1.0/"  # a WebP XMP attribute's namespace
