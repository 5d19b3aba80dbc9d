// One cold start, as a user's process has it: import the installed package (by its name), init(),
// build a 784→10 network, predict one digit; then print this process's peak RSS in kB.
import { Dense, Sequential, init, tensor } from "wasmgrad";

await init();
const model = new Sequential([new Dense(10)], { inputShape: [784], seed: 1 });
model.predict(tensor(new Float32Array(784), { shape: [1, 784] })).data();
console.log(process.resourceUsage().maxRSS);
