// The networks the MNIST examples, the benchmarks and the browser app train, defined once.
import { Conv2D, Dense, Dropout, Flatten, MaxPool2D, RandomShift, Sequential } from "../dist/index.js";

/** The main job's 784-128-64-10 ReLU network, with dropout after each hidden layer. */
export const mnistMlp = ({ dropout = 0.1, seed = 1, engine } = {}) => {
  const hidden = (units) => [new Dense(units, { activation: "relu" }), ...(dropout > 0 ? [new Dropout(dropout)] : [])];
  return new Sequential([...hidden(128), ...hidden(64), new Dense(10)], { inputShape: [784], seed, engine });
};

/** LeNet-5 on 28×28×1 digits, optionally with shifted digits (augmentation) and dropout. */
export const lenet = ({ seed = 1, dropout = 0, shift = 0, engine } = {}) =>
  new Sequential(
    [
      ...(shift > 0 ? [new RandomShift(shift)] : []), // augmentation: digits moved by up to `shift` pixels
      new Conv2D(6, 5, { padding: "same", activation: "relu" }),
      new MaxPool2D(2),
      new Conv2D(16, 5, { padding: "valid", activation: "relu" }),
      new MaxPool2D(2),
      new Flatten(),
      new Dense(120, { activation: "relu" }),
      ...(dropout > 0 ? [new Dropout(dropout)] : []),
      new Dense(84, { activation: "relu" }),
      ...(dropout > 0 ? [new Dropout(dropout)] : []),
      new Dense(10),
    ],
    { inputShape: [28, 28, 1], seed, engine },
  );
