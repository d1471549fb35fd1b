"""Client side of SDXL 1.0 on Amazon Bedrock: requests checked against the contract before
they leave the machine, calls through boto3, responses checked and decoded."""
