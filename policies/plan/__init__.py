"""The plan gate and guarded apply: judge what `terraform plan` will change in a real account, bind the
approval to the exact plan file, and let nothing unapproved reach `terraform apply`.

- `plan_json`     load and validate Terraform's JSON plan (`terraform show -json PLAN`), fail closed
- `plan_checks/`  custom checks comparing `before` with `after` (data loss, security regressions)
- `plan_scanner`  checkov's `terraform_plan` framework, offline, with the same pack as the synth gate
- `plan_gate`     plan JSON files → findings → verdict (0 pass, 1 fail, 2 error) + attestations
- `approvals`     reviewed approvals for deleting or replacing stateful resources, by exact address
- `attestation`   what the gate approved: plan hashes, policy pack hash, results, time, optional HMAC
- `terraform`     runs the user's terraform (init with the env's backend, plan -out, show -json, apply)
- `deploy`        `plan` / `apply` for one environment: stacks in dependency order
- `summary`       create / update / delete / replace / no-op counts per stack
- `report`        the synth gate's report writers, plus the planned-change summary
"""
