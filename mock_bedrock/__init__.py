"""A local Bedrock Runtime for Stability SDXL 1.0 that real AWS clients call unchanged."""
