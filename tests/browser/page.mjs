// Stable Image Core through the AWS SDK for JavaScript v3, as a frontend would call it, with
// the mock's URL (?endpoint=) as its endpoint. Writes what happened into the page: the image
// (a data: URL) and "WIDTHxHEIGHT", or "ERROR: name: message"; then #status says "done".
import { BedrockRuntimeClient, InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";

const endpoint = new URLSearchParams(location.search).get("endpoint");
const show = (id, text) => { document.getElementById(id).textContent = text; };

const client = new BedrockRuntimeClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDBROWSER", secretAccessKey: "browser-secret" },
  maxAttempts: 1, // a refusal is shown as it came, not after retries
});

async function invoke() {
  const answer = await client.send(new InvokeModelCommand({
    modelId: "stability.stable-image-core-v1:1",
    contentType: "application/json",
    accept: "application/json",
    body: JSON.stringify({ prompt: "a lighthouse at dusk", output_format: "png" }),
  }));
  const found = JSON.parse(new TextDecoder().decode(answer.body));
  const image = document.getElementById("image");
  await new Promise((resolve, reject) => {
    image.onload = resolve;
    image.onerror = () => reject(new Error("the answer's image could not be decoded"));
    image.src = `data:image/png;base64,${found.images[0]}`;
  });
  show("size", `${image.naturalWidth}x${image.naturalHeight}`);
}

// The admin endpoints never answer a page, named origin or not.
async function admin() {
  try {
    const answer = await fetch(`${endpoint}/_mock/journal`);
    show("admin", `admin: answered ${answer.status}`);
  } catch (error) {
    show("admin", `admin: refused (${error.name})`);
  }
}

try {
  await invoke();
} catch (error) {
  show("size", `ERROR: ${error.name}: ${error.message}`);
}
await admin();
show("status", "done");
