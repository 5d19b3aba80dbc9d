// Prints the ONNX op table of the built package as JSON (what scripts/onnx-cases.py selects by).
import { supportedOnnxOps } from "../dist/onnx.js";
console.log(JSON.stringify(supportedOnnxOps()));
