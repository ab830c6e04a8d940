"""The reference inference function, shipped as the code of `serving: lambda` models.

Runtime needs: the Python standard library and boto3 (both in the Lambda runtime). Nothing here
imports the rest of Aegis: the folder is zipped as it is (see modules/platform/lambda_package.py).
"""
