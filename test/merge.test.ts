// Add and Concatenate: the merge layers a forward()-written model uses for residuals and joins.
import { beforeAll, describe, expect, it } from "vitest";
import { Add, ArgumentError, Concatenate, Dense, Model, ShapeError, type Tensor, gradcheck, init, tensor } from "../src/index.js";

beforeAll(async () => {
  await init();
});

class Residual extends Model {
  left = new Dense(3, { activation: "tanh" });
  right = new Dense(2, { activation: "sigmoid" });
  add = new Add();
  join = new Concatenate();
  forward(x: Tensor) {
    return this.join.call([this.add.call([x, this.left.call(x)]), this.right.call(x)]);
  }
}

describe("Add and Concatenate", () => {
  it("compute the sum and the join, exactly", () => {
    const a = tensor([[1, 2], [3, 4]]), b = tensor([[10, 20], [30, 40]]), c = tensor([[0.5, 0.25], [1, 2]]);
    expect(new Add().call([a, b, c]).toArray()).toEqual([[11.5, 22.25], [34, 46]]);
    expect(new Concatenate().call([a, c]).toArray()).toEqual([[1, 2, 0.5, 0.25], [3, 4, 1, 2]]);
    expect(new Concatenate({ axis: 1 }).call([tensor([[[1]], [[2]]]), tensor([[[3]], [[4]]])]).toArray()).toEqual([[[1], [3]], [[2], [4]]]);
  });

  it("backpropagate through a residual model: gradients match finite differences", () => {
    const model = new Residual({ seed: 2 }).build([3]);
    const x = tensor([[0.1, -0.4, 0.3], [0.7, 0.2, -0.5]], { requiresGrad: true });
    expect(model.call(x).shape).toEqual([2, 5]);
    expect(gradcheck((t) => model.call(t), [x]).ok).toBe(true);
    expect(gradcheck(() => model.call(x.detach()), model.parameters()).ok).toBe(true);
  });

  it("fan-in: Add hands ∂L/∂y to each input unchanged", () => {
    const a = tensor([1, 2], { requiresGrad: true }), b = tensor([3, 4], { requiresGrad: true });
    new Add().call([a, b]).mul(tensor([5, 7])).sum().backward();
    expect(a.grad!.toArray()).toEqual([5, 7]);
    expect(b.grad!.toArray()).toEqual([5, 7]);
  });

  it("refuse bad input with typed errors", () => {
    const a = tensor([[1, 2]]);
    expect(() => new Add().call([a])).toThrow(ArgumentError);
    expect(() => new Add().call([a, tensor([[1, 2, 3]])])).toThrow(ShapeError);
    expect(() => new Add().call([a, [1, 2] as never])).toThrow(ArgumentError);
    expect(() => new Concatenate().call([a, tensor([[1], [2]])])).toThrow(ShapeError);
    expect(() => new Concatenate({ axis: 0 }).call([a, a])).toThrow(ArgumentError);
    expect(() => new Concatenate({ axis: 0.5 })).toThrow(ArgumentError);
  });

  it("a model with them saves its weights and loads them back", async () => {
    const model = new Residual({ seed: 3 }).build([3]);
    const x = tensor([[0.3, 0.1, -0.2]]);
    const before = model.call(x).data().slice();
    const other = new Residual({ seed: 4 }).build([3]);
    other.loadStateDict(model.stateDict());
    expect(other.call(x).data()).toEqual(before);
    expect(Object.keys(model.stateDict())).toEqual(["left.weight", "left.bias", "right.weight", "right.bias"]);
  });
});
