"""ANPR / AMS plate reads, one JSON object per line, in time order.

Plate reads are trips: a vehicle enters a motorway at one camera and passes the next ones in road order,
at a speed that fits the limit, the hour (rush hours are slow) and the driver, so successive reads of a
plate are minutes apart and kilometres apart as they should be; trajectory controls report the average
speed over their section. Trips start through the day along a traffic curve, and reads are written in
time order through a heap that only holds the trips on the road at that moment.
"""

from __future__ import annotations

import bisect
import heapq
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate, pairwise
from pathlib import Path
from typing import NamedTuple

from ingest.generate import numbers as num
from ingest.generate.context import Context
from ingest.generate.entities import Vehicle
from ingest.generate.exports import NdjsonExport
from ingest.generate.roads import ROADS, Road, compass, distance_km
from ingest.generate.world import BRUSSELS, apportion, ascending_uniforms, at, fraction_to_seconds
from ingest.records import record_id

GERMAN_NAMES = {"Luik": "Lüttich", "Brussel": "Brüssel", "Antwerpen": "Antwerpen", "Sankt Vith": "Sankt Vith"}
ANPR_COUNTRY = {"BE": "B", "NL": "NL", "FR": "F", "DE": "D", "LU": "LU", "PL": "PL"}


@dataclass(frozen=True)
class Camera:
    json: str  # the "camera" object, serialised once
    heading: str
    limit: int
    code: str


def _cameras(road: Road, forward: bool) -> list[Camera]:
    sites = road.sites if forward else road.sites[::-1]
    toward_nl, toward_fr = road.toward_last if forward else road.toward_first
    out = []
    for index, site in enumerate(sites):
        other = sites[index + 1] if index + 1 < len(sites) else sites[index - 1]
        heading = compass(site, other) if index + 1 < len(sites) else compass(other, site)
        if site.language == "de":
            label = f"{road.name} {site.nl}, Richtung {GERMAN_NAMES.get(toward_nl, toward_nl)}"
        elif site.language in {"fr", "bi"}:
            label = f"{road.name} {site.fr}, direction {toward_fr}"
        else:
            label = f"{road.name} {site.nl}, richting {toward_nl}"
        camera = {
            "id": f"CAM-{road.name}-{site.code}-{heading}{1 if forward else 2}",
            "site": label,
            "lat": site.lat,
            "lon": site.lon,
        }
        out.append(Camera(json.dumps(camera, ensure_ascii=False), heading, site.limit, site.code))
    return out


class Read(NamedTuple):
    """A plate read waiting in the heap for its turn to be written."""

    entity: str
    plate: str
    camera: Camera
    country: str
    lane: int
    speed: int
    confidence: int
    trajectory: str  # the serialised "trajectory" member, or ""
    hit: str  # the serialised "hit" member, or ""


@dataclass(frozen=True)
class Route:
    """One direction of one road, with what every trip along it needs precomputed."""

    road: Road
    cameras: list[Camera]
    distances: list[float]  # km from the previous camera (0 for the first)
    sections: list[str]  # id of the trajectory section starting at each camera, or ""
    congested: bool  # rush hours slow it down


def _route(road: Road, forward: bool) -> Route:
    cameras = _cameras(road, forward)
    sites = road.sites if forward else road.sites[::-1]
    distances = [0.0] + [distance_km(a, b) for a, b in pairwise(sites)]
    sections = []
    for index in range(len(sites)):
        segment = index if forward else len(sites) - 2 - index
        starts = index + 1 < len(sites) and segment in road.trajectories
        sections.append(f"TRJ-{road.name}-{cameras[index].code}-{cameras[index + 1].code}" if starts else "")
    congested = road.name in {"R0", "R1", "E19", "E40", "E17", "E313"}
    return Route(road, cameras, distances, sections, congested)


# -- ANPR -----------------------------------------------------------------------------------------------
class Anpr:
    def __init__(self, ctx: Context, export: NdjsonExport) -> None:
        self.ctx, self.export = ctx, export
        self.routes = [_route(road, forward) for road in ROADS for forward in (True, False)]
        self.cumulative = list(accumulate(route.road.weight for route in self.routes))
        self.heap: list[tuple[float, int, Read]] = []
        self.pushed = 0
        self.rng = ctx.world.rng("anpr")
        self.hour_key, self.hour_parts = -1, ("", "", "")

    def draw_route(self, rng: random.Random) -> tuple[int, int, int]:
        """Which road and direction, where the vehicle gets on, how many cameras it passes."""
        route = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        cameras = len(self.routes[route].cameras)
        start = int(rng.random() * cameras)
        length = 1 + min(cameras - start - 1, int(rng.expovariate(1 / 3.5)))
        return route, start, length

    def day(self, day: date, quota: int) -> None:
        """The day's trips; `quota` reads exactly (the last trip is cut short)."""
        world = self.ctx.world
        count, reads = 0, 0
        routes = world.rng("anpr-routes", day.isoformat())
        while reads < quota:  # first pass: how many trips make the quota
            reads += self.draw_route(routes)[2]
            count += 1
        routes = world.rng("anpr-routes", day.isoformat())
        profile = "traffic" if day.weekday() < 5 else "weekend_traffic"
        midnight = at(day, 0, 0).timestamp()
        left = quota
        for fraction in ascending_uniforms(self.rng, count):
            route, start, length = self.draw_route(routes)
            length = min(length, left)
            left -= length
            begin = midnight + fraction_to_seconds(fraction, profile)
            self.flush(begin)
            self.trip(self.routes[route], start, length, begin)

    def _vehicle(self, night: bool, foreign_share: float) -> Vehicle:
        ctx, rng = self.ctx, self.rng
        population = ctx.population
        if rng.random() < foreign_share:
            return population.foreign_vehicle(int(population.foreign_vehicles * rng.random() ** 1.5))
        chosen = None
        if rng.random() < (0.15 if night else 0.03):
            chosen = population.cast_vehicle(rng)
        elif ctx.stolen_alerts and rng.random() < 0.005:
            chosen = 7 + 211 * int(rng.random() * ctx.stolen_alerts)
        return population.vehicle(chosen if chosen is not None else population.pick_vehicle(rng))

    def _hit(self, vehicle: Vehicle) -> str:
        """What the hit list says of a plate: wanted in ANG, or watched for a case."""
        ctx = self.ctx
        if vehicle.country != "BE":
            return ""
        if vehicle.stolen and (vehicle.index - 7) // 211 < ctx.stolen_alerts:
            return "ANG"
        if vehicle.owner < ctx.population.cast:
            case = ctx.cases.cases_of(vehicle.owner)
            if case is not None and self.rng.random() < 0.6:
                return ctx.cases.case(case).number
        return ""

    def trip(self, route: Route, start: int, length: int, begin: float) -> None:
        rng, road, cameras = self.rng, route.road, route.cameras
        hour = int(self._hour(int(begin // 3600))[0][11:13])  # the local hour
        vehicle = self._vehicle(hour < 5 or hour >= 22, road.foreign_share)
        hit = self._hit(vehicle)
        hit = f', "hit": "{hit}"' if hit else ""
        belgian = vehicle.country == "BE"
        plate = num.plate_compact(vehicle.plate) if rng.random() < 0.85 or not belgian else vehicle.plate
        country = "BE" if belgian and road.name in {"R1", "N9"} else ANPR_COUNTRY[vehicle.country]
        base = cameras[start].limit * min(
            1.6, max(0.5, rng.gauss(0.97, 0.07 if rng.random() < 0.95 else 0.2))
        )
        if route.congested and hour in {7, 8, 16, 17}:
            base *= rng.uniform(0.45, 0.95)  # rush hour
        # This loop runs once per read: random() only (randint and gauss cost several times more), and
        # the sum of two uniforms for a speed's small wobble.
        random_ = rng.random
        lane = 1 + int(random_() * road.lanes)
        when = begin
        for index in range(start, start + length):
            camera = cameras[index]
            trajectory = ""
            if index > start:
                distance = route.distances[index]
                elapsed = distance / max(base * (1.0 + 0.1 * (random_() + random_() - 1.0)), 20.0) * 3600
                when += elapsed
                if route.sections[index - 1]:
                    average = round(distance / (elapsed / 3600))
                    trajectory = (
                        f', "trajectory": {{"id": "{route.sections[index - 1]}", "avgSpeed": {average}}}'
                    )
            if not trajectory and route.sections[index] and index + 1 < start + length:
                trajectory = f', "trajectory": {{"id": "{route.sections[index]}"}}'
            measured = max(5, round(base * (1.0 + 0.08 * (random_() + random_() - 1.0))))
            if random_() < 0.2:
                lane = max(1, min(road.lanes, lane + (1 if random_() < 0.5 else -1)))
            confidence = 70 + int(random_() * 30)
            read = Read(vehicle.key, plate, camera, country, lane, measured, confidence, trajectory, hit)
            heapq.heappush(self.heap, (when + random_() * 0.05, self.pushed, read))
            self.pushed += 1

    def _hour(self, hour: int) -> tuple[str, str, str]:
        """For an hour (since the epoch): its local "YYYY-MM-DDTHH:", its UTC offset, its day YYYYMMDD.
        Belgian offsets are whole hours, so minutes and seconds need no time zone arithmetic."""
        if hour != self.hour_key:
            local = datetime.fromtimestamp(hour * 3600, BRUSSELS)
            stamp = local.isoformat()
            self.hour_key, self.hour_parts = hour, (stamp[:14], stamp[19:], f"{local:%Y%m%d}")
        return self.hour_parts

    def flush(self, until: float) -> None:
        """Write every read up to `until`: no trip still to come can read a plate before it."""
        heap, export, truth = self.heap, self.export, self.ctx.truth
        pop, write, seen = heapq.heappop, export.write_line, truth.seen
        while heap and heap[0][0] <= until:
            when, _, read = pop(heap)
            hour = int(when // 3600)
            head, offset, day = self.hour_parts if hour == self.hour_key else self._hour(hour)
            minute, millis = divmod(int((when - hour * 3600) * 1000), 60_000)
            read_id = f"AMS-{day}-{export.rows + 1:09d}"
            camera = read.camera
            write(
                f'{{"readId": "{read_id}", "ts": "{head}{minute:02d}:{millis // 1000:02d}.{millis % 1000:03d}'
                f'{offset}", "camera": {camera.json}, "plate": "{read.plate}", "country": "{read.country}", '
                f'"direction": "{camera.heading}", "lane": {read.lane}, "speed": {read.speed}, '
                f'"limit": {camera.limit}, "confidence": {read.confidence}{read.trajectory}{read.hit}}}\n'
            )
            seen(("anpr", read_id, record_id("plate_read", "anpr", read_id)), read.entity, read.plate)


def write_anpr(ctx: Context, path: Path) -> int:
    world = ctx.world
    days = [world.start + timedelta(days=offset) for offset in range(world.days)]
    weights = {day.isoformat(): (1.0, 1.0, 1.0, 1.0, 1.05, 0.75, 0.6)[day.weekday()] for day in days}
    quotas = apportion(world.counts["anpr"], weights)
    with NdjsonExport(path) as export:
        anpr = Anpr(ctx, export)
        for day in days:
            anpr.day(day, quotas[day.isoformat()])
        anpr.flush(float("inf"))
    return export.rows
