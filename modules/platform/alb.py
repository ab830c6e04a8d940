"""The Application Load Balancer in front of a GPU fleet: internal by default, HTTPS only (no HTTP
listener at all) with a TLS 1.3 policy and the certificate from config, invalid header fields
dropped, strictest desync mitigation, access logs to the access-logs bucket under `alb/`, deletion
protection from config (always on in prod), and HTTPS to the targets as well.

Who may connect: behind CloudFront, only CloudFront (the AWS-managed origin-facing prefix list), so
nothing in the VPC can bypass CloudFront's WAF and geo restriction; otherwise the VPC (internal) or
the configured client ranges."""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.lookups import cloudfront_origin_facing_prefix_list_id
from modules.platform.context import PlatformContext
from modules.platform.network import Network
from modules.platform.settings import ModelSettings

ACCESS_LOG_PREFIX = "alb"  # the access-logs bucket policy admits ELB log delivery under alb/AWSLogs/<account>/
HSTS = "max-age=31536000; includeSubDomains"


class ModelLoadBalancer(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, model: ModelSettings, *,
                 network: Network, target_security_group_id: str):
        super().__init__(scope, construct_id)
        s = model.ec2_settings
        n = ctx.naming
        self.security_group = aws.security_group.SecurityGroup(
            self, "security-group", name=n.resource(f"{model.name}-alb"), vpc_id=network.vpc_id,
            description=f"ALB of {model.name}: HTTPS in, traffic port to its fleet only",
            tags={"Name": n.resource(f"{model.name}-alb")})
        # Read once: the rules, the ALB and the fleet's ingress rule name it (each read is a jsii round trip).
        self.security_group_id: str = self.security_group.id
        if s.cloudfront is not None:
            aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                self, "https-from-cloudfront", security_group_id=self.security_group_id, ip_protocol="tcp",
                from_port=443, to_port=443, prefix_list_id=cloudfront_origin_facing_prefix_list_id(self),
                description="HTTPS from CloudFront only (its WAF and geo rules apply to every request)")
        else:
            sources = [network.cidr] if s.alb.internal else list(s.alb.allowed_cidrs)
            for i, cidr in enumerate(sources):
                aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                    self, f"https-in-{i}", security_group_id=self.security_group_id, ip_protocol="tcp",
                    from_port=443, to_port=443, cidr_ipv4=cidr,
                    description="HTTPS from the VPC" if s.alb.internal else "HTTPS from an allowed client range")
        aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
            self, "to-fleet", security_group_id=self.security_group_id, ip_protocol="tcp",
            from_port=s.container_port, to_port=s.container_port,
            referenced_security_group_id=target_security_group_id, description="Model traffic port to the fleet")

        subnets = network.private_subnet_ids if s.alb.internal else network.public_subnet_ids
        self.zones = len(subnets)  # one subnet per availability zone
        self.load_balancer = aws.lb.Lb(
            self, "load-balancer", name=n.load_balancer(model.name), load_balancer_type="application",
            internal=s.alb.internal, security_groups=[self.security_group_id],
            subnets=subnets,
            drop_invalid_header_fields=True, desync_mitigation_mode="strictest",
            enable_deletion_protection=ctx.deletion_protection, enable_http2=True,
            enable_waf_fail_open=False, idle_timeout=s.alb.idle_timeout_seconds,
            access_logs=aws.lb.LbAccessLogs(bucket=ctx.bucket("access-logs"), prefix=ACCESS_LOG_PREFIX, enabled=True),
            tags={"Model": model.name})
        self.load_balancer_arn: str = self.load_balancer.arn  # read once (listener, WAF, CloudFront's VPC origin)
        h = aws.lb_target_group
        self.target_group = h.LbTargetGroup(
            self, "targets", name=n.target_group(model.name), port=s.container_port, protocol="HTTPS",
            protocol_version="HTTP1", target_type="instance", vpc_id=network.vpc_id, deregistration_delay="60",
            health_check=h.LbTargetGroupHealthCheck(
                enabled=True, protocol="HTTPS", path=s.health_check_path, port="traffic-port", matcher="200",
                interval=15, timeout=5, healthy_threshold=2, unhealthy_threshold=3),
            tags={"Model": model.name})
        self.target_group_arn: str = self.target_group.arn  # read once (listener, Auto Scaling group)
        li = aws.lb_listener
        self.listener = li.LbListener(
            self, "https", load_balancer_arn=self.load_balancer_arn, port=443, protocol="HTTPS",
            ssl_policy=s.alb.ssl_policy, certificate_arn=s.alb.certificate_arn,
            routing_http_response_strict_transport_security_header_value=HSTS,
            routing_http_response_x_content_type_options_header_value="nosniff",
            routing_http_response_server_enabled=False,
            default_action=[li.LbListenerDefaultAction(type="forward", target_group_arn=self.target_group_arn)])
