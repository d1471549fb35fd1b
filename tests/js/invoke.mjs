// The AWS SDK for JavaScript v3, default settings (HTTP/2 for bedrock-runtime), pointed at
// the mock only through AWS_ENDPOINT_URL_BEDROCK_RUNTIME; its credentials from the
// environment, and a second client signing with a wrong secret. Prints one JSON line.
import {
  BedrockRuntimeClient,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";

const client = new BedrockRuntimeClient({ region: "us-east-1" });
const modelId = "stability.stable-diffusion-xl-v1";
const body = JSON.stringify({
  text_prompts: [{ text: "Sri lanka tea plantation." }],
  cfg_scale: 10, seed: 0, steps: 50, samples: 1, style_preset: "photographic",
});
const json = { contentType: "application/json", accept: "application/json" };
const decode = (bytes) => new TextDecoder().decode(bytes);

const invoked = JSON.parse(decode((await client.send(
  new InvokeModelCommand({ modelId, body, ...json }))).body));

const streamed = await client.send(
  new InvokeModelWithResponseStreamCommand({ modelId, body, ...json }));
let text = "";
for await (const event of streamed.body) if (event.chunk) text += decode(event.chunk.bytes);

const refusalOf = async (sender, command) => {
  try {
    await sender.send(command);
    return null;
  } catch (error) {
    return { name: error.name, status: error.$metadata.httpStatusCode, message: error.message,
             requestId: error.$metadata.requestId ?? null };
  }
};
const refusal = await refusalOf(client, new InvokeModelCommand({
  modelId, body: JSON.stringify({ text_prompts: [{ text: "x" }], cfg_scale: 40 }), ...json }));

// One attempt: the SDK may retry InvalidSignatureException as a clock skew it corrected.
const stranger = new BedrockRuntimeClient({
  region: "us-east-1", maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: "not-the-secret" },
});
const wrongSecret = await refusalOf(stranger, new InvokeModelCommand({ modelId, body, ...json }));
console.log(JSON.stringify({ invoked, streamed: JSON.parse(text), refusal, wrongSecret }));
