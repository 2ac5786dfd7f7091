"""The demo network as plain data: parties, logins, terminals, stations, services both ways, tariffs, vessel strings
and the carriers' detention terms.

Loaded by `python manage.py seed_demo` (stations/management/commands/seed_demo.py). Distances, times and
prices are rough, for demonstration (DESIGN.md section 7); every business code here is the key the seed
upserts on, so changing a value and seeding again updates the row in place.
"""

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from intermodal.models import PartyKind

# Published in the README and printed by seed_demo: a demo login, not a secret.
DEMO_PASSWORD = "demo1234"  # noqa: S105
DEMO_EMAIL_DOMAIN = "demo.intermodal.example"

# --- Parties --------------------------------------------------------------------------------------------

ORGANISATIONS = [
    {
        "code": "demo-shipper-a",
        "kind": PartyKind.ENTERPRISE,
        "name": "Demo Shipper A Trading Co., Ltd.",
        "name_zh": "演示甲贸易有限公司",
        "uscc": "91330782MA2HQ7K12U",  # registered in Yiwu (330782)
    },
    {
        "code": "demo-shipper-b",
        "kind": PartyKind.ENTERPRISE,
        "name": "Demo Shipper B Import & Export Co., Ltd.",
        "name_zh": "演示乙进出口有限公司",
        "uscc": "91330200MA2CN8R6XY",  # registered in Ningbo (330200)
    },
    {
        "code": "demo-yiwu-station",
        "kind": PartyKind.STATION_OPERATOR,
        "name": "Yiwu Land Port Station Operations Co., Ltd. (demo)",
        "name_zh": "义乌陆港场站运营有限公司（演示）",
    },
    {
        "code": "demo-railway",
        "kind": PartyKind.RAILWAY,
        "name": "Ningbo Sea-Rail and Barge Intermodal Operations (demo)",
        "name_zh": "宁波海铁及内河联运运营公司（演示）",
    },
    {
        "code": "demo-port",
        "kind": PartyKind.PORT,
        "name": "Ningbo-Zhoushan Port Group (demo)",
        "name_zh": "宁波舟山港集团（演示）",
    },
    {"code": "demo-customs", "kind": PartyKind.CUSTOMS, "name": "Ningbo Customs (demo)", "name_zh": "宁波海关（演示）"},
    {
        "code": "demo-ciq",
        "kind": PartyKind.BORDER_INSPECTION,
        "name": "Ningbo Entry-Exit Inspection and Quarantine (demo)",
        "name_zh": "宁波出入境检验检疫（演示）",
    },
    {
        "code": "demo-msa",
        "kind": PartyKind.MARITIME_SAFETY,
        "name": "Ningbo Maritime Safety Administration (demo)",
        "name_zh": "宁波海事局（演示）",
    },
    {
        "code": "demo-gov",
        "kind": PartyKind.LOCAL_GOVERNMENT,
        "name": "Zhejiang Provincial Department of Commerce (demo)",
        "name_zh": "浙江省商务厅（演示）",
        # A blank city: the office sees the aggregates of the whole province.
        "province": "Zhejiang",
        "city": "",
    },
    {
        "code": "demo-admin",
        "kind": PartyKind.PLATFORM_ADMIN,
        "name": "Sea-Rail Intermodal Platform Operations (demo)",
        "name_zh": "海铁联运平台运营中心（演示）",
    },
]

_KIND_BY_ORGANISATION = {org["code"]: org["kind"] for org in ORGANISATIONS}

# One login per organisation. `language` is only the initial choice: a user who changes it keeps it.
USERS = [
    {"username": "shipper-a", "organisation": "demo-shipper-a", "first_name": "Wei", "last_name": "Zhang",
     "language": "en"},
    {"username": "shipper-b", "organisation": "demo-shipper-b", "first_name": "Fang", "last_name": "Chen",
     "language": "zh-hans"},
    {"username": "yiwu-staff", "organisation": "demo-yiwu-station", "first_name": "Jun", "last_name": "Wang",
     "language": "zh-hans"},
    {"username": "railway", "organisation": "demo-railway", "first_name": "Lei", "last_name": "Liu",
     "language": "en"},
    {"username": "port", "organisation": "demo-port", "first_name": "Min", "last_name": "Zhou", "language": "en"},
    {"username": "customs", "organisation": "demo-customs", "first_name": "Hua", "last_name": "Huang",
     "language": "zh-hans"},
    {"username": "ciq", "organisation": "demo-ciq", "first_name": "Ying", "last_name": "Xu", "language": "zh-hans"},
    {"username": "msa", "organisation": "demo-msa", "first_name": "Gang", "last_name": "Sun", "language": "en"},
    {"username": "gov", "organisation": "demo-gov", "first_name": "Li", "last_name": "Ma", "language": "zh-hans"},
    {"username": "admin", "organisation": "demo-admin", "first_name": "Platform", "last_name": "Admin",
     "language": "en", "is_staff": True, "is_superuser": True},
]

# (username, organisation code, party kind) of every demo login, for whatever prints them.
DEMO_USERS: list[tuple[str, str, str]] = [
    (user["username"], user["organisation"], str(_KIND_BY_ORGANISATION[user["organisation"]])) for user in USERS
]

# --- Port side ------------------------------------------------------------------------------------------

PORT_OPERATOR = "demo-port"
SERVICE_OPERATOR = "demo-railway"
INSPECTION_OFFICES = ["demo-customs", "demo-ciq"]

TERMINALS = [
    {"code": "BEILUN", "name": "Beilun", "name_zh": "北仑", "unlocode": "CNBLG", "port_unlocode": "CNNGB",
     "handling_buffer_hours": 6},
    {"code": "CHUANSHAN", "name": "Chuanshan", "name_zh": "穿山", "unlocode": "CNCHS", "port_unlocode": "CNNGB",
     "handling_buffer_hours": 6},
    {"code": "MEISHAN", "name": "Meishan", "name_zh": "梅山", "unlocode": "CNMSG", "port_unlocode": "CNNGB",
     "handling_buffer_hours": 6},
    # None: the platform's default buffer (settings.TERMINAL_HANDLING_BUFFER).
    {"code": "DAXIE", "name": "Daxie", "name_zh": "大榭", "unlocode": "CNDAX", "port_unlocode": "CNNGB",
     "handling_buffer_hours": None},
    {"code": "JINTANG", "name": "Zhoushan Jintang", "name_zh": "舟山金塘", "unlocode": "CNZOS",
     "port_unlocode": "CNZOS", "handling_buffer_hours": 6},
]

# Destination ports of the vessel calls.
LOCATIONS = [
    # UN/LOCODE, name, Chinese name, typical days at sea from Ningbo-Zhoushan (illustrative).
    ("NLRTM", "Rotterdam", "鹿特丹", 30),
    ("DEHAM", "Hamburg", "汉堡", 32),
    ("BEANR", "Antwerp", "安特卫普", 31),
    ("GBFXT", "Felixstowe", "费利克斯托", 29),
    ("USLAX", "Los Angeles", "洛杉矶", 14),
    ("USNYC", "New York", "纽约", 31),
    ("JPTYO", "Tokyo", "东京", 3),
    ("SGSIN", "Singapore", "新加坡", 6),
    ("AEJEA", "Jebel Ali", "杰贝阿里", 17),
    ("BRSSZ", "Santos", "桑托斯", 36),
]

# --- Inland stations ------------------------------------------------------------------------------------

PROVINCES_ZH = {
    "Zhejiang": "浙江",
    "Anhui": "安徽",
    "Jiangxi": "江西",
    "Shaanxi": "陕西",
    "Chongqing": "重庆",
    "Hunan": "湖南",
    "Gansu": "甘肃",
    "Xinjiang": "新疆",
}

YIWU_OPERATOR = "demo-yiwu-station"


# Where the stations and terminals are (WGS 84, to a few hundred metres: for the network map).
COORDINATES = {
    "YIWU-W": (29.33, 120.02), "YIWU-S": (29.40, 120.10), "JINHUA-E": (29.11, 119.72), "JINHUA-L": (29.21, 119.46),
    "QUZHOU": (28.94, 118.87), "LISHUI": (28.45, 119.92), "SHAOXING": (30.00, 120.58), "DEQING-LH": (30.54, 119.98),
    "ANJI": (30.64, 119.68), "JIAXING": (30.75, 120.76), "HANGZHOU": (30.38, 120.30), "HEFEI": (31.92, 117.28),
    "XUANCHENG": (30.94, 118.76), "WUHU": (31.33, 118.38), "NANCHANG": (28.52, 115.95), "SHANGRAO": (28.45, 117.94),
    "YINGTAN": (28.26, 117.07), "JINGDEZHEN": (29.27, 117.18), "XIAN-ITP": (34.38, 109.06), "XIAN-N": (34.40, 108.95),
    "CHONGQING": (29.64, 106.45), "CHANGSHA": (28.30, 113.01), "LANZHOU": (36.10, 103.72), "URUMQI": (43.90, 87.53),
    "BEILUN": (29.93, 121.88), "CHUANSHAN": (29.90, 121.99), "MEISHAN": (29.78, 121.95), "DAXIE": (29.92, 121.96),
    "JINTANG": (30.03, 121.90),
}


def place(code: str) -> dict:
    latitude, longitude = COORDINATES[code]
    return {"latitude": Decimal(str(latitude)), "longitude": Decimal(str(longitude))}


def _station(code, name, name_zh, city, city_zh, province, unlocode, road_km, *, depot=True, customs=True,
             bills=False, operator=None):
    return {
        **place(code),
        "code": code,
        "name": name,
        "name_zh": name_zh,
        "city": city,
        "city_zh": city_zh,
        "province": province,
        "province_zh": PROVINCES_ZH[province],
        "unlocode": unlocode,
        "timezone": "Asia/Shanghai",
        "has_empty_depot": depot,
        "has_customs_supervision": customs,
        "issues_bills_of_lading": bills,
        "operator": operator,
        # Road distance to the port, for the road-haulage alternative in the tariffs (not stored).
        "road_km": road_km,
    }


# 24 stations in 20 cities. UN/LOCODE is that of the station's city (Deqing has its own).
STATIONS = [
    # Zhejiang
    _station("YIWU-W", "Yiwu West Railway Freight Station", "义乌西铁路货场", "Yiwu", "义乌", "Zhejiang", "CNYIU",
             300, bills=True, operator=YIWU_OPERATOR),
    _station("YIWU-S", "Yiwu Suxi Land Port", "义乌苏溪陆港", "Yiwu", "义乌", "Zhejiang", "CNYIU", 310, bills=True,
             operator=YIWU_OPERATOR),
    _station("JINHUA-E", "Jinhua East Freight Station", "金华东货运站", "Jinhua", "金华", "Zhejiang", "CNJHA", 330,
             bills=True),
    _station("JINHUA-L", "Jinhua Lanxi Dry Port", "金华兰溪无水港", "Jinhua", "金华", "Zhejiang", "CNJHA", 360,
             customs=False),
    _station("QUZHOU", "Quzhou Dry Port", "衢州无水港", "Quzhou", "衢州", "Zhejiang", "CNQZS", 420),
    _station("LISHUI", "Lishui Dry Port", "丽水无水港", "Lishui", "丽水", "Zhejiang", "CNLIS", 380),
    _station("SHAOXING", "Shaoxing Dry Port", "绍兴无水港", "Shaoxing", "绍兴", "Zhejiang", "CNSXG", 160),
    _station("DEQING-LH", "Deqing Linhang Logistics Park", "德清临杭物流园", "Huzhou", "湖州", "Zhejiang", "CNDEI",
             230),
    _station("ANJI", "Anji Dry Port", "安吉无水港", "Huzhou", "湖州", "Zhejiang", "CNHZH", 270, depot=False),
    _station("JIAXING", "Jiaxing Dry Port", "嘉兴无水港", "Jiaxing", "嘉兴", "Zhejiang", "CNJIX", 200),
    _station("HANGZHOU", "Hangzhou Qiaosi Sea-Rail Station", "杭州乔司海铁联运站", "Hangzhou", "杭州", "Zhejiang",
             "CNHGH", 150, bills=True),
    # Anhui
    _station("HEFEI", "Hefei North Freight Station", "合肥北货运站", "Hefei", "合肥", "Anhui", "CNHFI", 550,
             bills=True),
    _station("XUANCHENG", "Xuancheng International Land Port", "宣城国际陆港", "Xuancheng", "宣城", "Anhui",
             "CNUAN", 400),
    _station("WUHU", "Wuhu Sea-Rail Station", "芜湖海铁联运站", "Wuhu", "芜湖", "Anhui", "CNWHI", 450),
    # Jiangxi
    _station("NANCHANG", "Nanchang Xiangtang Railway Port", "南昌向塘铁路口岸", "Nanchang", "南昌", "Jiangxi",
             "CNNCH", 760, bills=True),
    _station("SHANGRAO", "Shangrao International Land Port", "上饶国际陆港", "Shangrao", "上饶", "Jiangxi", "CNSRS",
             520),
    _station("YINGTAN", "Yingtan Dry Port", "鹰潭无水港", "Yingtan", "鹰潭", "Jiangxi", "CNYTN", 620),
    _station("JINGDEZHEN", "Jingdezhen Dry Port", "景德镇无水港", "Jingdezhen", "景德镇", "Jiangxi", "CNJDZ", 620,
             customs=False),
    # Beyond
    _station("XIAN-ITP", "Xi'an International Port Station", "西安国际港站", "Xi'an", "西安", "Shaanxi", "CNXIA",
             1600, bills=True),
    _station("XIAN-N", "Xi'an North Logistics Centre", "西安北物流中心", "Xi'an", "西安", "Shaanxi", "CNXIA", 1620),
    _station("CHONGQING", "Chongqing Tuanjiecun Station", "重庆团结村站", "Chongqing", "重庆", "Chongqing", "CNCQI",
             1700, bills=True),
    _station("CHANGSHA", "Changsha Jinxia Logistics Park", "长沙金霞物流园", "Changsha", "长沙", "Hunan", "CNCSX",
             950),
    _station("LANZHOU", "Lanzhou International Land Port", "兰州国际陆港", "Lanzhou", "兰州", "Gansu", "CNLHW", 2100),
    _station("URUMQI", "Urumqi International Land Port", "乌鲁木齐国际陆港", "Urumqi", "乌鲁木齐", "Xinjiang",
             "CNURC", 4200, depot=False),
]

# --- Services -------------------------------------------------------------------------------------------

DAILY = [1, 2, 3, 4, 5, 6, 7]
MON_SAT = [1, 2, 3, 4, 5, 6]
WORKDAYS = [1, 2, 3, 4, 5]

_TERMINAL_ABBR = {"BEILUN": "BLG", "CHUANSHAN": "CHS", "MEISHAN": "MSG", "DAXIE": "DAX", "JINTANG": "ZOS"}


def _service(station, terminal, weekdays, departs, transit_hours, closing_hours, teu, km, dg=(), *,
             mode="RAIL"):
    return {
        "code": f"{station}-{_TERMINAL_ABBR[terminal]}-{mode[0]}",
        "station": station,
        "terminal": terminal,
        "mode": mode,
        "direction": "export",
        "weekdays": list(weekdays),
        "departure_time": time.fromisoformat(departs),
        "transit_hours": transit_hours,
        "closing_hours": closing_hours,
        "teu_capacity": teu,
        "distance_km": km,
        "dangerous_goods_classes": list(dg),
    }


# A train is about 50 wagons of 2 TEU near the port, shorter on the long lines; barges carry 60-120 TEU.
SERVICES = [
    _service("YIWU-W", "BEILUN", DAILY, "20:30", 8, 4, 100, 305, ["3", "8", "9"]),
    _service("YIWU-W", "CHUANSHAN", [1, 3, 5], "09:00", 9, 4, 100, 315, ["9"]),
    _service("YIWU-S", "BEILUN", DAILY, "18:00", 8, 4, 100, 310),
    _service("JINHUA-E", "BEILUN", MON_SAT, "19:00", 10, 6, 100, 360, ["3", "8", "9"]),
    _service("JINHUA-E", "MEISHAN", [2, 4, 6], "07:30", 11, 6, 100, 375),
    _service("JINHUA-L", "BEILUN", WORKDAYS, "16:00", 11, 6, 100, 390, ["9"]),
    _service("QUZHOU", "BEILUN", WORKDAYS, "15:00", 13, 6, 100, 450, ["3", "9"]),
    _service("LISHUI", "BEILUN", [1, 2, 4, 5, 6], "14:00", 14, 6, 100, 430),
    _service("SHAOXING", "BEILUN", MON_SAT, "21:00", 6, 4, 100, 170, ["3", "8", "9"]),
    _service("SHAOXING", "BEILUN", [2, 4, 6], "10:00", 28, 8, 64, 190, ["9"], mode="BARGE"),
    _service("DEQING-LH", "BEILUN", WORKDAYS, "17:00", 10, 6, 100, 280, ["9"]),
    _service("DEQING-LH", "BEILUN", [1, 3, 5], "08:00", 36, 12, 120, 330, mode="BARGE"),
    _service("ANJI", "BEILUN", WORKDAYS, "13:00", 11, 6, 100, 330),
    _service("JIAXING", "BEILUN", MON_SAT, "22:00", 8, 4, 100, 240, ["3", "9"]),
    _service("HANGZHOU", "BEILUN", DAILY, "23:00", 7, 4, 100, 190, ["3", "8", "9"]),
    _service("HANGZHOU", "CHUANSHAN", [2, 4, 6], "11:00", 7, 4, 100, 200),
    _service("HEFEI", "BEILUN", [1, 3, 5, 7], "10:00", 20, 8, 90, 620, ["3", "8", "9"]),
    _service("XUANCHENG", "CHUANSHAN", WORKDAYS, "12:00", 16, 8, 100, 470, ["9"]),
    _service("WUHU", "BEILUN", [2, 4, 6], "11:00", 18, 8, 90, 520),
    _service("NANCHANG", "BEILUN", [1, 2, 4, 6], "09:30", 26, 10, 90, 830, ["3", "9"]),
    _service("SHANGRAO", "MEISHAN", WORKDAYS, "08:00", 18, 8, 100, 560, ["9"]),
    _service("YINGTAN", "BEILUN", [2, 4, 6], "13:30", 22, 10, 90, 680),
    _service("JINGDEZHEN", "BEILUN", [3, 6], "10:30", 24, 10, 80, 700),
    _service("XIAN-ITP", "BEILUN", [1, 3, 5], "18:00", 56, 12, 80, 1750, ["3", "9"]),
    _service("XIAN-N", "BEILUN", [2, 6], "16:00", 60, 12, 80, 1780),
    _service("CHONGQING", "BEILUN", [2, 4, 7], "15:00", 60, 12, 80, 1900, ["9"]),
    _service("CHANGSHA", "BEILUN", [1, 4, 6], "12:00", 32, 10, 90, 1050, ["9"]),
    _service("LANZHOU", "BEILUN", [3, 7], "20:00", 80, 12, 80, 2400),
    _service("URUMQI", "BEILUN", [2, 5], "12:00", 120, 12, 80, 4500),
]



def _import_service(export: dict) -> dict:
    """The export service's way back, terminal -> station, by the same mode and line: its trains leave the terminal
    twelve hours off the export's hour (the set that brought the exports down goes back up with the imports)."""
    departs = export["departure_time"]
    return {
        **export,
        "code": f"{_TERMINAL_ABBR[export['terminal']]}-{export['station']}-{export['mode'][0]}",
        "direction": "import",
        "departure_time": time((departs.hour + 12) % 24, departs.minute),
    }


# Every station is served both ways: the import services run the export services' lines from the terminal.
IMPORT_SERVICES = [_import_service(row) for row in SERVICES]
SERVICES += IMPORT_SERVICES

# --- Tariffs (CNY per container) ------------------------------------------------------------------------

CONTAINER_SIZES = ["20", "40", "45"]
PORT_HANDLING = {"20": Decimal("380"), "40": Decimal("580"), "45": Decimal("650")}
DOCUMENTATION = {"20": Decimal("150"), "40": Decimal("150"), "45": Decimal("150")}
# What a 40' and a 45' cost against a 20'.
TRANSPORT_SIZE_FACTOR = {"20": Decimal("1"), "40": Decimal("1.5"), "45": Decimal("1.65")}
ROAD_SIZE_FACTOR = {"20": Decimal("1"), "40": Decimal("1.4"), "45": Decimal("1.54")}

_TEN = Decimal("10")
_CENT = Decimal("0.01")


def _to_ten_yuan(amount: Decimal) -> Decimal:
    return (amount / _TEN).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * _TEN


def transport_price_20(mode: str, distance_km: int) -> Decimal:
    """A 20' by rail: a fixed part and a rate per km that falls beyond 1,000 km; a barge is cheaper per km."""
    km = Decimal(distance_km)
    if mode == "BARGE":
        return Decimal("300") + Decimal("1.5") * km
    near, far = min(km, Decimal("1000")), max(km - Decimal("1000"), Decimal("0"))
    return Decimal("600") + Decimal("2.5") * near + Decimal("1.6") * far


def road_price_20(road_km: int) -> Decimal:
    """A 20' by truck all the way to the terminal: about 2,600 CNY from Yiwu, far dearer from far inland."""
    return Decimal("1100") + Decimal("5") * Decimal(road_km)


def tariff_rows(mode: str, distance_km: int, road_km: int) -> dict[str, dict[str, Decimal]]:
    """The tariff of each container size of a service: prices rounded to 10 CNY, as Decimals to the fen."""
    rail = _to_ten_yuan(transport_price_20(mode, distance_km))
    road = _to_ten_yuan(road_price_20(road_km))
    return {
        size: {
            "transport_price": _to_ten_yuan(rail * TRANSPORT_SIZE_FACTOR[size]).quantize(_CENT),
            "port_handling": PORT_HANDLING[size].quantize(_CENT),
            "documentation": DOCUMENTATION[size].quantize(_CENT),
            "road_haulage_price": _to_ten_yuan(road * ROAD_SIZE_FACTOR[size]).quantize(_CENT),
        }
        for size in CONTAINER_SIZES
    }


# --- Vessel strings -------------------------------------------------------------------------------------


def imo_number(base: str) -> str:
    """A seven-digit IMO number from six digits: weights 7..2, summed, the last digit of the sum appended."""
    if len(base) != 6 or not base.isdigit():
        raise ValueError(f"An IMO base is six digits, not {base!r}")
    return base + str(sum(int(d) * w for d, w in zip(base, range(7, 1, -1), strict=True)) % 10)


def _vessels(*rows):
    """Vessels of a string's rotation: (name, six-digit IMO base) or (name, base, carrier, SCAC) for a
    vessel of an alliance partner that runs in another carrier's loop."""
    vessels = []
    for name, base, *operated_by in rows:
        vessel = {"name": name, "imo": imo_number(base)}
        if operated_by:
            vessel["carrier"], vessel["scac"] = operated_by
        vessels.append(vessel)
    return vessels


# Each string calls one terminal on a fixed weekday and time, every week or every other week (`weeks`:
# "all", or "even"/"odd" by ISO week number); the vessel of a week comes from the string's rotation by ISO
# week and the voyage number from the ISO year and week, so a week always yields the same calls. Three
# weekly strings and two alternating pairs make five calls a week.
VESSEL_STRINGS = [
    {
        "carrier": "COSCO Shipping", "scac": "COSU", "service_code": "AEU3", "service_name": "Asia - North Europe 3",
        "terminal": "BEILUN", "weeks": "all",
        "etd_weekday": 3, "etd_time": time(22, 0), "berth_hours": 30, "direction": "W",
        "destinations": ["NLRTM", "DEHAM", "BEANR", "GBFXT"],
        "vessels": _vessels(("COSCO Shipping Yiwu", "981231"), ("OOCL Zhoushan", "979936", "OOCL", "OOLU"),
                            ("COSCO Shipping Jinhua", "981243")),
    },
    {
        "carrier": "Maersk", "scac": "MAEU", "service_code": "TP6", "service_name": "Transpacific 6",
        "terminal": "CHUANSHAN", "weeks": "all",
        "etd_weekday": 5, "etd_time": time(6, 0), "berth_hours": 26, "direction": "E",
        "destinations": ["JPTYO", "USLAX", "USNYC"],
        "vessels": _vessels(("Maersk Zhoushan", "978012"), ("Maersk Beilun", "978024")),
    },
    {
        "carrier": "MSC", "scac": "MSCU", "service_code": "SWAN",
        "service_name": "Swan - Asia Middle East Latin America",
        "terminal": "MEISHAN", "weeks": "all",
        "etd_weekday": 6, "etd_time": time(14, 0), "berth_hours": 32, "direction": "W",
        "destinations": ["SGSIN", "AEJEA", "BRSSZ"],
        "vessels": _vessels(("MSC Aurelia", "983107"), ("MSC Valentina", "983119"), ("MSC Serafina", "983121")),
    },
    {
        "carrier": "CMA CGM", "scac": "CMDU", "service_code": "FAL5", "service_name": "French Asia Line 5",
        "terminal": "BEILUN", "weeks": "even",
        "etd_weekday": 1, "etd_time": time(18, 0), "berth_hours": 28, "direction": "W",
        "destinations": ["SGSIN", "AEJEA", "GBFXT"],
        "vessels": _vessels(("CMA CGM Zhejiang", "986405"), ("CMA CGM Ningbo", "986417")),
    },
    {
        "carrier": "Hapag-Lloyd", "scac": "HLCU", "service_code": "FE5", "service_name": "Far East - Latin America 5",
        "terminal": "BEILUN", "weeks": "odd",
        "etd_weekday": 1, "etd_time": time(18, 0), "berth_hours": 28, "direction": "W",
        "destinations": ["SGSIN", "BRSSZ"],
        "vessels": _vessels(("Hanover Express", "977311"), ("Ningbo Express", "977323")),
    },
    {
        "carrier": "ONE", "scac": "ONEY", "service_code": "PN1", "service_name": "Pacific North 1",
        "terminal": "DAXIE", "weeks": "even",
        "etd_weekday": 2, "etd_time": time(10, 0), "berth_hours": 24, "direction": "E",
        "destinations": ["JPTYO", "USLAX"],
        "vessels": _vessels(("ONE Harmony", "984702"), ("ONE Integrity", "984714")),
    },
    {
        "carrier": "Evergreen", "scac": "EGLV", "service_code": "CEM", "service_name": "China - Europe - Middle East",
        "terminal": "JINTANG", "weeks": "odd",
        "etd_weekday": 2, "etd_time": time(10, 0), "berth_hours": 24, "direction": "W",
        "destinations": ["SGSIN", "AEJEA", "NLRTM"],
        "vessels": _vessels(("Ever Gracious", "982510"), ("Ever Jubilant", "982522")),
    },
]

# Cut-offs, in hours before ETD.
CUTOFF_HOURS = {"cy_cutoff": 24, "vgm_cutoff": 24, "customs_cutoff": 24, "si_cutoff": 48, "dg_cutoff": 72}
# How many ISO weeks of calls the seed keeps published, starting with the current one.
VESSEL_WEEKS = 5

PORT_ZONE = ZoneInfo("Asia/Shanghai")


def vessel_call_of_week(string: dict, iso_year: int, iso_week: int, terminals: dict) -> dict | None:
    """What one string's call in one ISO week looks like (VesselCall fields), or None if it skips that week."""
    parity = "odd" if iso_week % 2 else "even"
    if string["weeks"] not in ("all", parity):
        return None
    # Alternate-week strings go round their rotation once every two weeks.
    turn = iso_week if string["weeks"] == "all" else iso_week // 2
    vessel = string["vessels"][turn % len(string["vessels"])]
    voyage = f"{iso_year % 100:02d}{iso_week:02d}{string['direction']}"
    etd = datetime.combine(
        date.fromisocalendar(iso_year, iso_week, string["etd_weekday"]), string["etd_time"], tzinfo=PORT_ZONE
    )
    call = {
        "reference": f"{vessel['imo']}-{voyage}",
        "vessel_name": vessel["name"],
        "imo_number": vessel["imo"],
        "voyage": voyage,
        "carrier": vessel.get("carrier", string["carrier"]),
        "carrier_scac": vessel.get("scac", string["scac"]),
        "service_code": string["service_code"],
        "service_name": string["service_name"],
        "terminal": terminals[string["terminal"]],
        "eta": etd - timedelta(hours=string["berth_hours"]),
        "etd": etd,
    }
    for field, hours in CUTOFF_HOURS.items():
        call[field] = etd - timedelta(hours=hours)
    return call


# --- Imports: the carriers' detention terms -------------------------------------------------------------

# Free days with the consignee (gate-out full to the empty's return) and detention per TEU a day beyond, in CNY
# (illustrative, of the order carriers publish for inland China).
CARRIER_DETENTION = {
    "COSU": (14, Decimal("100")),
    "OOLU": (14, Decimal("100")),
    "MAEU": (10, Decimal("150")),
    "MSCU": (10, Decimal("140")),
    "CMDU": (10, Decimal("130")),
    "HLCU": (12, Decimal("130")),
    "ONEY": (12, Decimal("120")),
    "EGLV": (14, Decimal("110")),
}
