"""AWS region names the schema accepts (commercial partition), checked against typos like eu-west-4."""

AWS_REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "af-south-1",
    "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
    "ca-central-1", "ca-west-1",
    "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-south-1", "eu-south-2", "eu-north-1",
    "il-central-1", "me-south-1", "me-central-1",
    "mx-central-1", "sa-east-1",
})

# Account of the Model Monitor analyzer image (`sagemaker-model-monitor-analyzer`) per region (Developer
# Guide, "Docker Registry Paths and Example Code": Model Monitor).
ANALYZER_ACCOUNTS = {
    "ap-east-1": "001633400207", "ap-northeast-1": "574779866223", "ap-northeast-2": "709848358524",
    "ap-south-1": "126357580389", "ap-southeast-1": "245545462676", "ap-southeast-2": "563025443158",
    "ca-central-1": "536280801234", "eu-central-1": "048819808253", "eu-north-1": "895015795356",
    "eu-west-1": "468650794304", "eu-west-2": "749857270468", "eu-west-3": "680080141114",
    "me-south-1": "607024016150", "sa-east-1": "539772159869", "us-east-1": "156813124566",
    "us-east-2": "777275614652", "us-west-1": "890145073186", "us-west-2": "159807026194",
}
