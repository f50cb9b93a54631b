"""Helper for the S3 stand-in (PyPI `moto[server]` with request signing enforced).

  setup URL BUCKET            -> creates an IAM user with full access, its HMAC key
                                 pair and BUCKET; prints {"id": ..., "secret": ...}
  get URL BUCKET KEY ID SECRET -> reads an object with a signed request; prints
                                 {"content_type", "cache_control", "body_b64"} or
                                 {"missing": true}
"""
import base64
import json
import sys

import boto3
import botocore.exceptions


def client(service, url, key_id="setup", secret="setup"):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


def setup(url, bucket):
    iam = client("iam", url)
    iam.create_user(UserName="tuki-media")
    key = iam.create_access_key(UserName="tuki-media")["AccessKey"]
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="tuki-media", PolicyName="media",
                        PolicyDocument=json.dumps(policy))
    client("s3", url, key["AccessKeyId"], key["SecretAccessKey"]).create_bucket(Bucket=bucket)
    print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))


def get(url, bucket, key, key_id, secret):
    try:
        obj = client("s3", url, key_id, secret).get_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] in ("NoSuchKey", "404"):
            print(json.dumps({"missing": True}))
            return
        raise
    print(json.dumps({
        "content_type": obj.get("ContentType"),
        "cache_control": obj.get("CacheControl"),
        "body_b64": base64.b64encode(obj["Body"].read()).decode(),
    }))


if __name__ == "__main__":
    {"setup": setup, "get": get}[sys.argv[1]](*sys.argv[2:])
