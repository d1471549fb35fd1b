"""Plain boto3, nothing of the mock in it: where AWS_ENDPOINT_URL_BEDROCK_RUNTIME points, it
goes (the README's quick start "A local server for any language", and docs/mock.md's
"Pointing a client at it", run it against `mock-bedrock serve`)."""

import base64
import json

import boto3

client = boto3.client("bedrock-runtime")
body = json.dumps({"prompt": "a lighthouse at dusk", "aspect_ratio": "16:9", "seed": 7})
answer = json.loads(client.invoke_model(modelId="stability.stable-image-core-v1:1",
                                        body=body)["body"].read())
with open("plain-boto3.png", "wb") as out:
    out.write(base64.b64decode(answer["images"][0]))
print("wrote plain-boto3.png, seed", answer["seeds"][0], "from", client.meta.endpoint_url)
