"""The network on a map, drawn as SVG from the stations' and terminals' coordinates (no tiles, nothing from a CDN):
each station and terminal a dot, each service a line from its station to its terminal. A route can be picked out
(a booking's) with where its container is along it. Longitudes are scaled by the cosine of the middle latitude,
so distances look right around the network."""

import math
from dataclasses import dataclass, field

from stations.models import Service, Station, Terminal

WIDTH = 1000  # the SVG's user units; it scales to the page
MARGIN = 40
# Around the port: the stations east of this longitude (Zhejiang, Anhui, Jiangxi) make most of the traffic and
# would be a few pixels wide on a map that reaches Xinjiang; the home page draws them on their own.
NEAR_PORT_LONGITUDE = 114


@dataclass
class Dot:
    code: str
    name: str
    x: float
    y: float
    kind: str  # "station" or "terminal"
    focus: bool = False
    label: bool = False
    label_shift: float = 0  # moved down, clear of a label above it that it would overlap

    @property
    def label_left(self) -> bool:
        return self.x > WIDTH * 0.7  # near the port, on the right: the name goes to the dot's left

    @property
    def label_x(self) -> float:
        return round(self.x - 10 if self.label_left else self.x + 10, 1)

    @property
    def label_y(self) -> float:
        return round(self.y - 10 + self.label_shift, 1)


@dataclass
class Line:
    station: str
    terminal: str
    mode: str
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass
class NetworkMap:
    width: int
    height: int
    dots: list[Dot] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    route: Line | None = None  # the route picked out
    marker: tuple[float, float] | None = None  # where on it the container is
    port: tuple[float, float] | None = None  # where the port's name goes: amid its terminals
    left_out: int = 0  # stations too far west for this map

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def network_map(*, focus: set[str] = frozenset(), route: tuple[str, str] | None = None,
                progress: float | None = None, stations=None, near_port: bool = False) -> NetworkMap | None:
    """The map of every placed station and terminal and the active services between them; `focus` codes are
    marked and named, `route` (station code, terminal code) picked out with a marker `progress` of the way along
    (0 at the station, 1 at the terminal). None when nothing is placed. `stations`: those already read (the
    home page's), else all; two more queries, the terminals and the services. `near_port`: only the stations
    east of NEAR_PORT_LONGITUDE (and the others counted in `left_out`)."""
    stations = [s for s in (Station.objects.all() if stations is None else stations)
                if s.latitude is not None and s.longitude is not None]
    left_out = 0
    if near_port:
        near = [s for s in stations if s.longitude >= NEAR_PORT_LONGITUDE]
        left_out, stations = len(stations) - len(near), near
    terminals = [t for t in Terminal.objects.all() if t.latitude is not None and t.longitude is not None]
    places = stations + terminals
    if not places:
        return None
    lats = [float(p.latitude) for p in places]
    lons = [float(p.longitude) for p in places]
    scale_x = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * scale_x, 0.5)
    span_y = max(max(lats) - min(lats), 0.5)
    unit = (WIDTH - 2 * MARGIN) / span_x
    height = round(span_y * unit + 2 * MARGIN)

    def xy(place) -> tuple[float, float]:
        x = MARGIN + (float(place.longitude) - min(lons)) * scale_x * unit
        y = MARGIN + (max(lats) - float(place.latitude)) * unit
        return round(x, 1), round(y, 1)

    result = NetworkMap(width=WIDTH, height=height, left_out=left_out)
    at = {}
    for station in stations:
        at[("station", station.code)] = xy(station)
        focused = station.code in focus or (route is not None and station.code == route[0])
        result.dots.append(Dot(station.code, station.display_name, *xy(station), "station", focused, focused))
    for terminal in terminals:
        at[("terminal", terminal.code)] = xy(terminal)
        result.dots.append(Dot(terminal.code, terminal.display_name, *xy(terminal), "terminal", False, False))
    if terminals:
        points = [at[("terminal", t.code)] for t in terminals]
        result.port = (round(sum(p[0] for p in points) / len(points), 1), round(max(p[1] for p in points) + 22, 1))
    pairs = (Service.objects.filter(is_active=True).values_list("station__code", "terminal__code", "mode")
             .distinct().order_by("station__code", "terminal__code", "mode"))
    for station_code, terminal_code, mode in pairs:
        start, end = at.get(("station", station_code)), at.get(("terminal", terminal_code))
        if start is None or end is None:
            continue
        line = Line(station_code, terminal_code, mode, *start, *end)
        result.lines.append(line)
        if route == (station_code, terminal_code):
            result.route = line
    _spread_labels([dot for dot in result.dots if dot.label])
    if result.route is not None and progress is not None:
        share = min(max(progress, 0.0), 1.0)
        line = result.route
        result.marker = (round(line.x1 + (line.x2 - line.x1) * share, 1),
                         round(line.y1 + (line.y2 - line.y1) * share, 1))
    return result


LABEL_HEIGHT = 18  # a label's line, in the map's units (its font is sized in them)
LABEL_WIDTH = 160  # about a long station name's width


def _spread_labels(labelled: list[Dot]) -> None:
    """Labels of nearby stations (Yiwu West and Yiwu North are a few kilometres apart) would print over each
    other: from the top down, a label that would overlap one above it on the same side moves down below it."""
    placed: list[Dot] = []
    for dot in sorted(labelled, key=lambda d: (d.y, d.x)):
        for other in placed:
            if other.label_left == dot.label_left and abs(other.label_x - dot.label_x) < LABEL_WIDTH \
                    and abs(other.label_y - dot.label_y) < LABEL_HEIGHT:
                dot.label_shift += other.label_y + LABEL_HEIGHT - dot.label_y
        placed.append(dot)
