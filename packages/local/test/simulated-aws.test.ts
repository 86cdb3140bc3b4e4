import {
  executeRemediation,
  RollbackActionSchema,
  type RunnableAction,
  ScaleActionSchema,
} from "@firebreak/core";
import { describe, expect, it } from "vitest";
import { SimulatedAws } from "../src/simulated-aws";

const ECS = { kind: "ecs-service", cluster: "prod", service: "web" } as const;

const run = (simulation: SimulatedAws, action: RunnableAction) =>
  executeRemediation(action, {
    gateway: simulation,
    mode: "simulated",
    region: "us-east-1",
    reference: "INC-1/a1",
  });

const changesOf = (simulation: SimulatedAws) =>
  simulation.calls.filter((call) => call.changes).map((call) => call.operation);

describe("SimulatedAws", () => {
  it("scales a service without a scalable target by its desiredCount", async () => {
    const simulation = new SimulatedAws();
    const outcome = await run(
      simulation,
      ScaleActionSchema.parse({ type: "scale", target: ECS, by: 2, max: 9 }),
    );
    expect(outcome.reason).toBe("simulated: desiredCount 2 → 4");
    expect(changesOf(simulation)).toEqual(["UpdateService"]);
  });

  it("raises and then restores the minimum of a seeded scalable target, the count following", async () => {
    const simulation = new SimulatedAws();
    simulation.seedScalableTarget("prod", "web", 2, 10);
    const outcome = await run(
      simulation,
      ScaleActionSchema.parse({ type: "scale", target: ECS, by: 3, max: 9 }),
    );
    expect(outcome.requests.map((request) => request.operation)).toEqual([
      "RegisterScalableTarget",
    ]);
    const raised = simulation.snapshot().ecsServices["prod/web"];
    expect(raised).toMatchObject({
      desiredCount: 5,
      scalableTarget: { minCapacity: 5, maxCapacity: 10 },
    });

    await run(simulation, {
      type: "scale",
      target: ECS,
      restore: { of: "a1", raisedTo: 5, minCapacity: 2 },
      cooldown: 0,
    });
    expect(simulation.snapshot().ecsServices["prod/web"]).toMatchObject({
      scalableTarget: { minCapacity: 2, maxCapacity: 10 },
    });
    expect(changesOf(simulation)).toEqual(["RegisterScalableTarget", "RegisterScalableTarget"]);
  });

  it("rolls a blue/green service back through CodeDeploy, as ECS would insist", async () => {
    const simulation = new SimulatedAws();
    simulation.seedCodeDeploy("prod", "web", "AppECS-prod-web", "DgpECS-prod-web");
    const outcome = await run(
      simulation,
      RollbackActionSchema.parse({ type: "rollback", target: ECS }),
    );
    expect(outcome.status).toBe("simulated");
    expect(simulation.calls.map((call) => call.operation)).toEqual([
      "DescribeServices",
      "GetDeployment",
      "ListDeployments",
      "StopDeployment",
    ]);
    expect(simulation.snapshot().codeDeployActiveDeployments).toEqual({
      "AppECS-prod-web/DgpECS-prod-web": [],
    });
    await expect(
      simulation.send({
        service: "ecs",
        operation: "UpdateService",
        input: { cluster: "prod", service: "web", taskDefinition: "web:2" },
      }),
    ).rejects.toMatchObject({ errorCode: "InvalidParameterException" });
  });
});
