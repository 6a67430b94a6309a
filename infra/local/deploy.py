"""Deploy infra/template.yaml's data plane to LocalStack and derive the local wiring from it.

LocalStack (open source, no Docker) cannot run Lambda functions or API Gateway v2, so:
- the data-plane resources (table, buckets, queues and their policies) are deployed as a
  CloudFormation stack made from the template itself — no second copy of them exists;
- the functions' routes, SQS event sources, schedules and environment are read from the same
  template into .local/wiring.json (for the gateway) and .local/functions.env (for
  `cargo lambda watch`);
- .local/stack.env gets everything the tests and the demo need.
"""

import argparse
import json
import os
import re
import sys
import time

import boto3
from botocore.exceptions import ClientError
from cfnlint.decode import cfn_yaml

STACK = "yunzhao-local"
# What LocalStack runs here: the data plane. Everything else is played by the local wiring.
DATA_PLANE = {
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::KMS::Key",
}
# Data-plane resources that only serve what runs in AWS alone: the console bucket's policy
# grants the CloudFront distribution. (The bucket itself is deployed, harmless; CloudFront,
# its origin access control and headers policy are not data plane.)
AWS_ONLY = {"ConsoleBucketPolicy"}
LOCAL_PARAMETERS = {
    "Stage": "local",
    "WeChatAppId": "wx00000000000000aa",
    # The open-platform website app of the staff QR sign-in (the fake's).
    "WeChatWebAppId": "wx00000000000000bb",
    # The unionid whose first sign-in makes the local stack's first operator.
    "FirstOperatorUnionId": "local_first_operator",
    "WeChatPayMchId": "1900000109",
    # Short, so the tests can watch an abandoned claim return to the queue.
    "ReviewLeaseSeconds": "20",
}
# Values that come from Secrets Manager or NoEcho parameters in AWS: local ones from secrets.env.
LOCAL_SECRETS = {
    "WECHAT_APP_SECRET",
    "WECHAT_WEB_APP_SECRET",
    "SESSION_SIGNING_KEY",
    "LOOKUP_HMAC_KEY",
    "WECHATPAY_MERCHANT_KEY",
    "WECHATPAY_MERCHANT_SERIAL",
    "WECHATPAY_PLATFORM_KEYS",
    "WECHATPAY_APIV3_KEY",
}


def snake(camel):
    """TableName → TABLE_NAME, StandardizeDLQUrl → STANDARDIZE_DLQ_URL."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", camel).upper()


def fail(msg):
    sys.exit(f"deploy: {msg}")


def plain(node):
    """cfn-lint's YAML nodes → plain JSON values."""
    return json.loads(json.dumps(node))


def references(value):
    """Logical ids a template value refers to (Ref, GetAtt, ${X} in Sub)."""
    found = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str):
                found.add(v)
            elif k == "Fn::GetAtt":
                found.add(v[0] if isinstance(v, list) else v.split(".")[0])
            elif k == "Fn::Sub":
                text = v if isinstance(v, str) else v[0]
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
            found |= references(v)
    elif isinstance(value, list):
        for v in value:
            found |= references(v)
    return found


def data_plane_template(template):
    resources = template["Resources"]
    kept = {k: v for k, v in resources.items() if v["Type"] in DATA_PLANE and k not in AWS_ONLY}
    for name, res in kept.items():
        dangling = {r for r in references(res) if r in resources and r not in kept}
        if dangling:
            fail(f"{name} refers to {sorted(dangling)}, which the local stack does not run")
        if "DependsOn" in res:
            deps = res["DependsOn"] if isinstance(res["DependsOn"], list) else [res["DependsOn"]]
            res["DependsOn"] = [d for d in deps if d in kept]
    # Conditions refer to parameters only; kept resources may choose values with them (Fn::If).
    conditions = template.get("Conditions", {})
    used = set().union(*(references(r) for r in [*kept.values(), *conditions.values()]))
    params = {k: v for k, v in template.get("Parameters", {}).items() if k in used}
    outputs = {
        k: v for k, v in template.get("Outputs", {}).items()
        if "Condition" not in v and references(v) <= set(kept) | {"AWS::Region", "AWS::AccountId"}
    }
    data = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": params,
        "Resources": kept,
        "Outputs": outputs,
    }
    if conditions:
        data["Conditions"] = conditions
    return data


def deploy(cfn, body, parameters):
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    try:
        cfn.describe_stacks(StackName=STACK)
        exists = True
    except ClientError:
        exists = False
    try:
        if exists:
            cfn.update_stack(StackName=STACK, TemplateBody=body, Parameters=params)
            waiter = "stack_update_complete"
        else:
            cfn.create_stack(StackName=STACK, TemplateBody=body, Parameters=params)
            waiter = "stack_create_complete"
    except ClientError as e:
        if "No updates are to be performed" in str(e):
            return
        raise
    cfn.get_waiter(waiter).wait(StackName=STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 120})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--template", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--gateway-url", required=True)
    ap.add_argument("--fake-wechat-url", required=True)
    ap.add_argument("--invoke-url", required=True)
    args = ap.parse_args()

    template = plain(cfn_yaml.load(args.template))
    resources = template["Resources"]
    # The console is served by the gateway: its roster uploads come from that origin.
    local_params = {**LOCAL_PARAMETERS, "UploadOrigin": args.gateway_url}
    data = data_plane_template(template)
    started = time.time()
    cfn = boto3.client("cloudformation")
    deploy(cfn, json.dumps(data), {k: v for k, v in local_params.items() if k in data["Parameters"]})
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=STACK)["StackResources"]
    }
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=STACK)["Stacks"][0].get("Outputs", [])}
    print(f"deploy: stack {STACK} ready in {time.time() - started:.1f}s: {sorted(physical)}")

    sqs = boto3.client("sqs")

    def queue_arn(logical):
        url = physical[logical]
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    secrets = dict(line.split("=", 1) for line in open(os.path.join(args.state, "secrets.env")).read().split())
    missing = sorted(LOCAL_SECRETS - set(secrets))
    if missing:
        fail(f"secrets.env lacks {missing}")

    # Addresses that are WeChat's or API Gateway's in AWS, and the fake's or the gateway's here.
    local_addresses = {
        "WECHAT_API_BASE": args.fake_wechat_url,
        # The website QR login's page (qrconnect): open.weixin.qq.com in AWS.
        "WECHAT_OPEN_BASE": args.fake_wechat_url,
        # The console and /v1/* share one origin: CloudFront in AWS, the gateway here.
        "CONSOLE_ORIGIN": args.gateway_url,
        "WECHATPAY_API_BASE": args.fake_wechat_url,
        "WECHATPAY_NOTIFY_URL": f"{args.gateway_url}/v1/payments/wechat/notify",
        # The layer's /opt in AWS; the fetched models here.
        "MODELS_DIR": os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(args.template))), "models"),
    }

    def resolve(name, value):
        if name in LOCAL_SECRETS:
            return secrets[name]
        if name in local_addresses:
            return local_addresses[name]
        if isinstance(value, (str, int, float)):
            return str(value)
        if isinstance(value, dict) and "Ref" in value:
            ref = value["Ref"]
            if ref in physical:
                return physical[ref]
            if ref in local_params:
                return local_params[ref]
            default = template.get("Parameters", {}).get(ref, {}).get("Default")
            if default is not None:
                return str(default)
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            target, attr = value["Fn::GetAtt"] if isinstance(value["Fn::GetAtt"], list) else value["Fn::GetAtt"].split(".", 1)
            if resources[target]["Type"] == "AWS::SQS::Queue" and attr == "Arn":
                return queue_arn(target)
            if resources[target]["Type"] == "AWS::SQS::Queue" and attr == "QueueUrl":
                return physical[target]
        fail(f"cannot resolve {name}={json.dumps(value)} locally")

    global_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    function_env = {}
    wiring = {"invoke_url": args.invoke_url, "routes": [], "queues": [], "schedules": []}
    for logical, res in resources.items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        binary = res.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if not binary:
            fail(f"{logical} has no Metadata.BuildProperties.Binary")
        props = res["Properties"]
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        for name, value in env.items():
            resolved = resolve(name, value)
            if function_env.get(name, resolved) != resolved:
                fail(f"functions disagree on {name}; cargo lambda watch has one environment for all")
            function_env[name] = resolved
        for event_name, event in props.get("Events", {}).items():
            kind, p = event["Type"], event.get("Properties", {})
            if kind == "HttpApi":
                wiring["routes"].append({"method": p["Method"].upper(), "path": p["Path"], "function": binary})
            elif kind == "SQS":
                target = p["Queue"]["Fn::GetAtt"]
                target = target[0] if isinstance(target, list) else target.split(".")[0]
                wiring["queues"].append({
                    "function": binary,
                    "queue_url": physical[target],
                    "queue_arn": queue_arn(target),
                    "batch_size": int(p.get("BatchSize", 10)),
                    "report_batch_item_failures": "ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
                })
            elif kind in ("Schedule", "ScheduleV2"):
                expr = p.get("Schedule") or p.get("ScheduleExpression")
                m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expr or "")
                if not m:
                    fail(f"{logical}.{event_name}: the local wiring plays rate() schedules only, not {expr!r}")
                unit = {"minute": 60, "hour": 3600, "day": 86400}[m.group(2).rstrip("s")]
                wiring["schedules"].append({"function": binary, "name": f"{logical}-{event_name}", "every_seconds": int(m.group(1)) * unit})
            else:
                fail(f"{logical}.{event_name}: event type {kind} is not played locally")

    aws = {
        "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
        "AWS_REGION": os.environ["AWS_REGION"],
        "AWS_DEFAULT_REGION": os.environ["AWS_REGION"],
        "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
    }
    function_env.update(aws)
    function_env.update({
        **local_addresses,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
    })
    stack_env = {
        **aws,
        "API_URL": args.gateway_url,
        "FAKE_WECHAT_URL": args.fake_wechat_url,
        # Where tests invoke a function directly, as EventBridge would (the deadline job).
        "FUNCTIONS_INVOKE_URL": args.invoke_url,
        "FUNCTIONS_LOG": os.path.join(args.state, "functions.log"),
        "WECHAT_APPID": local_params["WeChatAppId"],
        "WECHAT_WEB_APPID": local_params["WeChatWebAppId"],
        "FIRST_OPERATOR_UNIONID": local_params["FirstOperatorUnionId"],
        "WECHATPAY_MCHID": local_params["WeChatPayMchId"],
        **secrets,
        **{snake(k): v for k, v in outputs.items() if k != "ApiUrl"},
    }

    def write(name, mapping):
        # Single-quoted: read by both bash (`. file`) and cargo lambda's dotenv parser, which
        # refuses a bare base64 value.
        if any("'" in v or "\n" in v for v in mapping.values()):
            fail(f"{name}: a value holds a quote or a newline")
        path = os.path.join(args.state, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.writelines(f"{k}='{v}'\n" for k, v in sorted(mapping.items()))

    write("functions.env", function_env)
    write("stack.env", stack_env)
    with open(os.path.join(args.state, "wiring.json"), "w") as f:
        json.dump(wiring, f, indent=2)
    print(f"deploy: {len(wiring['routes'])} routes, {len(wiring['queues'])} queue mappings, {len(wiring['schedules'])} schedules")


if __name__ == "__main__":
    main()
