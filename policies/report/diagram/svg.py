"""Drawing an environment's architecture (`Architecture`) as a self-contained SVG.

Columns: data (left) → platform (centre) → access and monitoring (right); governance below; the data
flows routed between them. Same model, same bytes: sorted iteration, integer coordinates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence
from xml.sax.saxutils import escape

from modules.serving import KINDS
from policies.report.diagram.architecture import Architecture, Stage

WIDTH = 1320
PAD = 16
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1f2933"
MUTED = "#52606d"
COLOURS = {  # pillar → (stroke, band fill)
    "data": ("#1d4ed8", "#eff6ff"),
    "platform": ("#047857", "#ecfdf5"),
    "access": ("#6d28d9", "#f5f3ff"),
    "governance": ("#b45309", "#fffbeb"),
    "bootstrap": ("#475569", "#f1f5f9"),
}
PILLAR_TITLES = {
    "data": "Secure data handling",
    "platform": "Scalable infrastructure",
    "access": "Access control & monitoring",
    "governance": "Continuous security enhancement",
}
FLOW_COLOURS = {"reads": "#0369a1", "writes": "#b91c1c", "S3 event": "#7c3aed", "metrics": "#047857",
                "logs": "#64748b", "audit": "#6d28d9", "alerts": "#b45309"}
CHAR = 6.1  # average glyph width at 11 px, for fitting text into boxes
# Column layout: data (left) → platform (centre) → access and monitoring (right); governance below.
DATA_W, CHANNEL, PLAT_W, GAP = 236, 64, 684, 28
ACCESS_W = WIDTH - 2 * PAD - DATA_W - CHANNEL - PLAT_W - GAP


def _fit(text: str, width: float, size: float = 11) -> str:
    limit = max(3, int(width / (CHAR * size / 11)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def right(self) -> int:
        return self.x + self.w


class _Canvas:
    """SVG elements in three layers: bands, then boxes and arrows, then labels on top."""

    def __init__(self, uid: str):
        self.uid = uid
        self.bands: list[str] = []
        self.parts: list[str] = []
        self.labels: list[str] = []
        self.colours: set[str] = set()

    def band(self, box: Box, pillar: str, title: str, subtitle: str) -> None:
        stroke, fill = COLOURS[pillar]
        self.bands.append(f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="10" fill="{fill}" '
                          f'stroke="{stroke}" stroke-width="1"/>')
        self.bands.append(self._text(box.x + 10, box.y + 18, _fit(title, box.w - 20, 12), 12, "700", stroke, "start"))
        self.bands.append(self._text(box.x + 10, box.y + 32, _fit(subtitle, box.w - 20, 10), 10, "normal", stroke,
                                     "start"))

    def wrapped(self, x: int, y: int, text: str, width: int, *, size: float = 10, colour: str = MUTED) -> int:
        """Text wrapped to `width`; returns the y below it."""
        limit = max(10, int(width / (CHAR * size / 11)))
        line = ""
        for word in text.split(" "):
            if line and len(line) + 1 + len(word) > limit:
                self.text(x, y, line, size=size, colour=colour, width=width)
                y += int(size * 1.35)
                line = word
            else:
                line = f"{line} {word}".strip()
        if line:
            self.text(x, y, line, size=size, colour=colour, width=width)
            y += int(size * 1.35)
        return y

    def rect(self, box: Box, *, stroke: str, fill: str = "#ffffff", dash: bool = False, width: float = 1.2,
             title: str = "", radius: int = 6) -> None:
        dashed = ' stroke-dasharray="5 3"' if dash else ""
        tip = f"<title>{escape(title)}</title>" if title else ""
        self.parts.append(f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="{radius}" '
                          f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dashed}>{tip}</rect>')

    @staticmethod
    def _text(x: float, y: float, text: str, size: float, weight: str, colour: str, anchor: str) -> str:
        return (f'<text x="{int(x)}" y="{int(y)}" font-size="{size}" font-weight="{weight}" fill="{colour}" '
                f'text-anchor="{anchor}">{escape(text)}</text>')

    def text(self, x: float, y: float, text: str, *, size: float = 11, weight: str = "normal", colour: str = INK,
             anchor: str = "start", width: float | None = None, top: bool = False) -> None:
        shown = _fit(text, width, size) if width else text
        (self.labels if top else self.parts).append(self._text(x, y, shown, size, weight, colour, anchor))

    def box(self, box: Box, title: str, lines: list[str], pillar: str, *, dash: bool = False, strong: bool = False) -> None:
        stroke = COLOURS[pillar][0]
        self.rect(box, stroke=stroke, dash=dash, width=2 if strong else 1.2, title=" · ".join([title, *lines]))
        self.text(box.x + 8, box.y + 16, title, weight="600", width=box.w - 14)
        for i, line in enumerate(lines):
            if box.y + 31 + 13 * i > box.bottom - 3:
                break
            self.text(box.x + 8, box.y + 30 + 13 * i, line, size=10, colour=MUTED, width=box.w - 14)

    def path(self, d: str, colour: str, *, dash: bool = False, arrow: bool = True) -> None:
        self.colours.add(colour)
        dashed = ' stroke-dasharray="4 3"' if dash else ""
        marker = f' marker-end="url(#{self.uid}-{colour.lstrip("#")})"' if arrow else ""
        self.parts.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.4" stroke-opacity="0.9"'
                          f'{dashed}{marker}/>')

    def label(self, x: int, y: int, text: str, colour: str) -> None:
        w = int(len(text) * CHAR * 0.88) + 8
        self.labels.append(f'<rect x="{x - w // 2}" y="{y - 9}" width="{w}" height="13" rx="3" fill="#ffffff" '
                           f'fill-opacity="0.92"/>')
        self.text(x, y + 1, text, size=9.5, colour=colour, anchor="middle", top=True)

    def curve(self, start: tuple[int, int], end: tuple[int, int], colour: str, label: str = "", *,
              horizontal: bool = True, dash: bool = False, label_at: float = 0.5) -> None:
        (x1, y1), (x2, y2) = start, end
        if horizontal:
            mx = (x1 + x2) // 2
            d = f"M{x1},{y1} C{mx},{y1} {mx},{y2} {x2},{y2}"
        else:
            my = (y1 + y2) // 2
            d = f"M{x1},{y1} C{x1},{my} {x2},{my} {x2},{y2}"
        self.path(d, colour, dash=dash)
        if label:
            self.label(int(x1 + (x2 - x1) * label_at), int(y1 + (y2 - y1) * label_at), label, colour)

    def line(self, points: list[tuple[int, int]], colour: str, label: str = "", *, dash: bool = False,
             arrow: bool = True, label_pos: tuple[int, int] | None = None) -> None:
        self.path("M" + " L".join(f"{x},{y}" for x, y in points), colour, dash=dash, arrow=arrow)
        if label:
            self.label(*(label_pos or points[len(points) // 2]), label, colour)

    def defs(self) -> str:
        return "".join(
            f'<marker id="{self.uid}-{col.lstrip("#")}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{col}"/></marker>'
            for col in sorted(self.colours))


def render_svg(arch: Architecture, *, standalone: bool = True) -> str:
    """The diagram as SVG text. `standalone` adds the XML declaration (a file); inline use leaves it out."""
    uid = "aegis-" + re.sub(r"[^A-Za-z0-9_-]", "-", arch.env)
    c = _Canvas(uid)
    nodes: dict[str, Box] = {}

    header = f"{arch.env} · {arch.region or '?'}" + (f" (DR {arch.dr_region})" if arch.dr_region else "")
    if arch.account:
        header += f" · account {arch.account}"
    c.text(PAD, PAD + 14, f"Aegis architecture — {header}", size=15, weight="700")
    c.text(WIDTH - PAD, PAD + 14, f"{sum(arch.counts.values())} resources in {len(arch.counts)} stacks, "
           "drawn from the synthesized Terraform", size=10, colour=MUTED, anchor="end")
    top = PAD + 48  # room above the bands for the routes that cross them

    data_x = PAD
    plat_x = data_x + DATA_W + CHANNEL
    access_x = plat_x + PLAT_W + GAP
    bottom = max(_data_column(c, arch, nodes, data_x, top), _platform(c, arch, nodes, plat_x, top),
                 _access_column(c, arch, nodes, access_x, top))
    for pillar, bx, bw in (("data", data_x, DATA_W), ("platform", plat_x, PLAT_W), ("access", access_x, ACCESS_W)):
        c.band(Box(bx, top, bw, bottom - top), pillar, PILLAR_TITLES[pillar],
               f"stack {arch.env}-{pillar} · {arch.counts.get(pillar, 0)} resources")
    gov_top = bottom + 34
    gov_bottom = _governance_band(c, arch, nodes, gov_top)
    c.band(Box(PAD, gov_top, WIDTH - 2 * PAD, gov_bottom - gov_top), "governance", PILLAR_TITLES["governance"],
           f"stack {arch.env}-governance · {arch.counts.get('governance', 0)} resources")
    _flows(c, arch, nodes, top=top, gov_top=gov_top, channel_x=data_x + DATA_W)

    legend_y = gov_bottom + 20
    legend = [("reads", "reads"), ("writes", "writes"), ("S3 event", "S3 event trigger"),
              ("metrics", "metrics → alarms"), ("alerts", "alerts"), ("audit", "audit logs"),
              ("logs", "access logs")]
    x = PAD
    for key, text in legend:
        colour = FLOW_COLOURS[key]
        c.parts.append(f'<path d="M{x},{legend_y - 4} L{x + 22},{legend_y - 4}" stroke="{colour}" stroke-width="2"/>')
        c.text(x + 27, legend_y, text, size=10, colour=MUTED)
        x += 40 + int(len(text) * CHAR)
    c.text(WIDTH - PAD, legend_y, "dashed: deliveries and scans by governance services", size=10, colour=MUTED,
           anchor="end")
    height = legend_y + 12

    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    return (f'{head}<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" role="img" aria-labelledby="{uid}-title" font-family="{escape(FONT)}" '
            f'class="aegis-diagram" data-env="{escape(arch.env)}">'
            f'<title id="{uid}-title">{escape("Aegis architecture of " + arch.env)}</title><defs>{c.defs()}</defs>'
            f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>'
            + "".join(c.bands) + "".join(c.parts) + "".join(c.labels) + "</svg>\n")


def _data_column(c: _Canvas, arch: Architecture, nodes: dict[str, Box], x: int, top: int) -> int:
    y = top + 50
    inner = DATA_W - 20
    rotation = " (rotation on)" if arch.keys and arch.rotated >= len(arch.keys) + len(arch.dr_keys) else ""
    y = c.wrapped(x + 10, y, f"KMS keys{rotation}: " + (", ".join(arch.keys) or "none"), inner)
    if arch.account_guards:
        y = c.wrapped(x + 10, y, "Account: " + ", ".join(arch.account_guards), inner)
    y += 4
    bx = x + 22  # room on the left for the access-log bus
    bw = DATA_W - 32
    for b in arch.buckets.values():
        lines = [b.encryption + (" · versioned" if b.versioned else ""),
                 f"object lock {b.lock}" if b.lock else ("log target" if any(o.logs_to == b.purpose
                                                                            for o in arch.buckets.values()) else "")]
        box = Box(bx, y, bw, 50)
        c.box(box, b.purpose + ("  ⇄ DR" if b.replicated else ""), [line for line in lines if line], "data")
        nodes[f"bucket:{b.purpose}"] = box
        y += 60
    if not arch.buckets:
        c.text(x + 10, y + 12, "no data stack in this output", size=10, colour=MUTED)
        y += 24
    loggers = [b for b in arch.buckets.values() if b.logs_to and f"bucket:{b.logs_to}" in nodes]
    if loggers:
        target = nodes[f"bucket:{loggers[0].logs_to}"]
        bus = x + 10
        colour = FLOW_COLOURS["logs"]
        ys = [nodes[f"bucket:{b.purpose}"].cy for b in loggers]
        for by in ys:
            c.line([(bx, by), (bus, by)], colour, arrow=False)
        c.line([(bus, min(ys)), (bus, target.cy), (bx - 1, target.cy)], colour)
    if arch.dr_buckets:
        box = Box(bx, y + 4, bw, 50)
        c.box(box, f"DR region {arch.dr_region}".strip(), [f"{len(arch.dr_buckets)} replicas, {len(arch.dr_keys)} keys",
                                                           "CRR with replication time control"], "data", dash=True)
        nodes["dr"] = box
        y += 62
    if arch.state:
        box = Box(bx, y + 4, bw, 50)
        c.box(box, f"Terraform state ({arch.env}-bootstrap)", [", ".join(arch.state)], "bootstrap")
        y += 62
    return y + 6


def _platform(c: _Canvas, arch: Architecture, nodes: dict[str, Box], x: int, top: int) -> int:
    y = top + 42
    stroke = COLOURS["platform"][0]
    inner_x, inner_w = x + 10, PLAT_W - 20
    net = arch.network
    vpc_top = y
    if net:
        edge = "no internet gateway" if not net.internet_gateway else f"internet gateway, {net.nat_gateways} NAT"
        c.text(inner_x + 10, y + 16, f"VPC {net.cidr} · {net.azs} AZs · {net.private_subnets} private"
               + (f" / {net.public_subnets} public" if net.public_subnets else "") + f" subnets · {edge}",
               weight="600", width=inner_w - 20)
        endpoints = net.interface_endpoints + [f"{g} (gateway)" for g in net.gateway_endpoints]
        c.text(inner_x + 10, y + 31, f"{len(endpoints)} endpoints: " + ", ".join(endpoints), size=10, colour=MUTED,
               width=inner_w - 20)
        c.text(inner_x + 10, y + 45, f"flow logs {net.flow_logs or 'off'} · {net.security_groups} security groups",
               size=10, colour=MUTED, width=inner_w - 20)
        y += 58
    else:
        c.text(inner_x, y + 12, "No VPC in this environment's platform stack.", size=10, colour=MUTED)
        y += 24
    lane_x = inner_x + 10
    if arch.training:
        y = _lane(c, nodes, "model:_training", "training", ["Studio, pipelines, registry"], arch.training, [], lane_x, y,
                  inner_x + inner_w - 10, stroke)
    for model in arch.models:
        stages = model.stages or [Stage(KINDS[model.kind].lane)]
        lines = [KINDS[model.kind].lane] + ([f"{model.alarms} alarms"] if model.alarms else [])
        y = _lane(c, nodes, f"model:{model.name}", model.name, lines, stages, model.notes, lane_x, y,
                  inner_x + inner_w - 10, stroke, lifecycle=model.lifecycle)
    if not arch.models:
        c.text(lane_x, y + 12, "No model is served in this environment.", size=10, colour=MUTED)
        y += 24
    if net:
        c.parts.insert(0, f'<rect x="{inner_x}" y="{vpc_top}" width="{inner_w}" height="{y - vpc_top + 4}" rx="8" '
                          f'fill="#ffffff" fill-opacity="0.55" stroke="{stroke}" stroke-width="1" '
                          f'stroke-dasharray="6 3"/>')
        y += 14
    if arch.storage:
        sw = min(220, int((inner_w - 12 * (len(arch.storage) - 1)) / len(arch.storage)))
        for i, item in enumerate(arch.storage):
            box = Box(inner_x + i * (sw + 12), y, sw, 44)
            c.box(box, item.title, item.lines, "platform")
            nodes[f"storage:{item.key}"] = box
        y += 54
    return y + 6


def _lane(c: _Canvas, nodes: dict[str, Box], node: str, title: str, lines: list[str], stages: list[Stage],
          notes: list[str], lane_x: int, y: int, right: int, stroke: str, *, lifecycle: Sequence[str] = ()) -> int:
    """One lane of the platform band: its label box, then its stages left to right, joined by lines; below
    them its notes and, on a line of its own, its release and monitoring path."""
    label_w = 128
    label = Box(lane_x, y, label_w, 46)
    c.box(label, title, lines, "platform", strong=True)
    nodes[node] = label
    sx = label.right + 20
    avail = right - sx
    sgap = 16
    sw = int((avail - sgap * (len(stages) - 1)) / len(stages)) if len(stages) > 1 else min(avail, 200)
    sw = min(sw, 200)
    boxes: list[Box] = []
    c.line([(label.right + 1, label.cy), (sx - 2, label.cy)], stroke)
    for i, stage in enumerate(stages):
        box = Box(sx + i * (sw + sgap), y + 3, sw, 40)
        c.box(box, stage.title, [stage.detail] if stage.detail else [], "platform")
        if i:
            prev = boxes[-1]
            c.line([(prev.right + 1, prev.cy), (box.x - 2, box.cy)], stroke)
        boxes.append(box)
    nodes[f"{node.replace('model:', 'model-last:', 1)}"] = boxes[-1]
    if notes:
        c.text(sx, y + 58, " · ".join(notes), size=9.5, colour=MUTED, width=avail)
    if lifecycle:
        c.text(sx, y + 71, " → ".join(lifecycle), size=9.5, colour=MUTED, width=avail)
        return y + 81
    return y + 68


def _access_column(c: _Canvas, arch: Architecture, nodes: dict[str, Box], x: int, top: int) -> int:
    y = top + 42
    for svc in arch.access:
        h = 22 + 13 * max(1, len(svc.lines))
        box = Box(x + 10, y, ACCESS_W - 20, h)
        c.box(box, svc.title, svc.lines, "access")
        nodes[f"svc:{svc.key}"] = box
        y += h + 12
    if not arch.access:
        c.text(x + 10, y + 12, "no access stack in this output", size=10, colour=MUTED)
        y += 24
    return y + 6


GOVERNANCE_ORDER = ("config", "backup", "securityhub", "macie", "inspector", "analyzer", "cost")


def _governance_band(c: _Canvas, arch: Architecture, nodes: dict[str, Box], top: int) -> int:
    y = top + 42
    rank = {k: i for i, k in enumerate(GOVERNANCE_ORDER)}
    services = sorted(arch.governance, key=lambda s: (rank.get(s.key, len(rank)), s.key))
    if not services:
        c.text(PAD + 10, y + 12, "no governance stack in this output", size=10, colour=MUTED)
        return y + 30
    per_row = min(len(services), 4)
    gw = int((WIDTH - 2 * PAD - 20 - 12 * (per_row - 1)) / per_row)
    for start in range(0, len(services), per_row):
        row = services[start:start + per_row]
        h = 22 + 13 * max(len(s.lines) for s in row)
        for i, svc in enumerate(row):
            box = Box(PAD + 10 + i * (gw + 12), y, gw, h)
            c.box(box, svc.title, svc.lines, "governance")
            nodes[f"svc:{svc.key}"] = box
        y += h + 10
    return y + 2


def _spread(n: int, i: int, length: int, margin: int = 8) -> int:
    """Offset of the i-th of n attachment points along a side of `length`."""
    if n <= 1:
        return length // 2
    return margin + (length - 2 * margin) * i // (n - 1)


def _flows(c: _Canvas, arch: Architecture, nodes: dict[str, Box], *, top: int, gov_top: int, channel_x: int) -> None:
    _data_flows(c, arch, nodes)
    _metric_flows(c, arch, nodes)
    _alert_flows(c, arch, nodes, gov_top=gov_top)
    _delivery_flows(c, arch, nodes, top=top, gov_top=gov_top, channel_x=channel_x)
    _backup_flows(c, arch, nodes)


def _data_flows(c: _Canvas, arch: Architecture, nodes: dict[str, Box]) -> None:
    """bucket ↔ model: S-curves through the channel between the data column and the platform band."""
    pairs = [f for f in arch.flows if (f.source.startswith("bucket:") and f.target.startswith("model:"))
             or (f.source.startswith("model:") and f.target.startswith("bucket:"))]
    at_bucket: dict[str, list] = {}
    at_model: dict[str, list] = {}
    for f in pairs:
        bucket, model = (f.source, f.target) if f.source.startswith("bucket:") else (f.target, f.source)
        if bucket in nodes and model in nodes:
            at_bucket.setdefault(bucket, []).append(f)
            at_model.setdefault(model, []).append(f)
    for f in pairs:
        bucket, model = (f.source, f.target) if f.source.startswith("bucket:") else (f.target, f.source)
        if bucket not in at_bucket or f not in at_bucket[bucket]:
            continue
        b, m = nodes[bucket], nodes[model]
        by = b.y + _spread(len(at_bucket[bucket]), at_bucket[bucket].index(f), b.h)
        my = m.y + _spread(len(at_model[model]), at_model[model].index(f), m.h)
        colour = FLOW_COLOURS.get(f.label, FLOW_COLOURS["reads"])
        if f.source == bucket:
            c.curve((b.right + 1, by), (m.x - 2, my), colour)
        else:
            c.curve((m.x - 1, my), (b.right + 2, by), colour)


def _metric_flows(c: _Canvas, arch: Architecture, nodes: dict[str, Box]) -> None:
    """model → CloudWatch (metrics), into the access column."""
    cw = nodes.get("svc:cloudwatch")
    metric_flows = [f for f in arch.flows if f.target == "svc:cloudwatch" and f"model-last:{f.source[6:]}" in nodes]
    for i, f in enumerate(metric_flows):
        last = nodes[f"model-last:{f.source[6:]}"]
        if cw:
            c.curve((last.right + 1, last.cy), (cw.x - 2, cw.y + _spread(len(metric_flows), i, cw.h)),
                    FLOW_COLOURS["metrics"])


def _alert_flows(c: _Canvas, arch: Architecture, nodes: dict[str, Box], *, gov_top: int) -> None:
    """monitoring → alerts, routed in the access column's right margin; governance events from below."""
    alerts = nodes.get("svc:alerts")
    margin = 0
    for f in arch.flows:
        if f.target != "svc:alerts" or not alerts or f.source not in nodes or f.source == "svc:governance":
            continue
        s = nodes[f.source]
        x = alerts.right + 4 + 3 * margin
        margin += 1
        c.line([(s.right + 1, s.cy), (x, s.cy), (x, alerts.cy + 4 * margin), (alerts.right + 2, alerts.cy + 4 * margin)],
               FLOW_COLOURS["alerts"])
    if alerts and any(f.source == "svc:governance" and f.target == "svc:alerts" for f in arch.flows):
        x = alerts.x + 24
        c.line([(x, gov_top), (x, alerts.bottom + 1)], FLOW_COLOURS["alerts"], "security events (EventBridge)",
               label_pos=(x + 80, gov_top - 12))


def _delivery_flows(c: _Canvas, arch: Architecture, nodes: dict[str, Box], *, top: int, gov_top: int,
                    channel_x: int) -> None:
    """Deliveries into buckets: trail (access, from above) and Config (governance, from below), orthogonal routes."""
    lane = 0
    for f in arch.flows:
        if not (f.source in ("svc:trail", "svc:config") and f.target in nodes and f.source in nodes):
            continue
        s, b = nodes[f.source], nodes[f.target]
        x = channel_x + 12 + 10 * lane
        lane += 1
        if f.source == "svc:trail":
            # out of the trail's left side, up the access column's margin, over the bands, down the channel
            y, margin = top - 14, s.x - 5
            c.line([(s.x, s.cy), (margin, s.cy), (margin, y), (x, y), (x, b.y + 12), (b.right + 2, b.y + 12)],
                   FLOW_COLOURS["audit"], f.label, label_pos=((margin + x) // 2, y))
        else:
            y, sx = gov_top - 16, s.right - 24
            c.line([(sx, s.y), (sx, y), (x, y), (x, b.bottom - 12), (b.right + 2, b.bottom - 12)],
                   FLOW_COLOURS["alerts"], f.label, dash=True, label_pos=((sx + x) // 2, y))


def _backup_flows(c: _Canvas, arch: Architecture, nodes: dict[str, Box]) -> None:
    """Backup protects platform storage."""
    for f in arch.flows:
        if f.source == "svc:backup" and f.source in nodes and f.target in nodes:
            s, t = nodes[f.source], nodes[f.target]
            c.curve((s.cx, s.y), (t.cx, t.bottom + 2), FLOW_COLOURS["alerts"], f.label, horizontal=False, dash=True,
                    label_at=0.8)
