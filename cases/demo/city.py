"""The demo city's facts: its units, banks, industries, the stages its cases are in, the stories
they tell, and the pre-work and blockers they carry. Read by the builders and the benchmarks."""

import calendar
import datetime
from dataclasses import dataclass
from decimal import Decimal

from ..models import Industry, PreworkKind, Stage

DEMO_PASSWORD = "demo"
COMMISSION = "临江市发展和改革委员会"
WAN = Decimal(10000)

DEPARTMENTS = [
    (COMMISSION, "市发改委"),
    ("临江市财政局", "市财政局"),
    ("临江市自然资源和规划局", "市自然资源和规划局"),
    ("临江市生态环境局", "市生态环境局"),
    ("临江市住房和城乡建设局", "市住建局"),
    ("临江市地方金融管理局", "市金融局"),
    ("临江市工业和信息化局", "市工信局"),
    ("临江市林业局", "市林业局"),
    ("临江市行政审批服务局", "市审批局"),
    ("临江市人民政府督查室", "市督查室"),
]
DISTRICTS = [
    ("临江市江城区", "江城区"),
    ("临江市东湖区", "东湖区"),
    ("临江市西山区", "西山区"),
    ("临江市南岸区", "南岸区"),
    ("清河县", "清河县"),
    ("北川县", "北川县"),
]
# The demo city's administrative region codes, as project codes of the national approval platform
# carry them. Invented for the demo: 3699 is the code of no real prefecture. The city's own code
# (369900) is on the projects the city's departments register.
CITY_REGION = ("369900", "临江市本级")
REGION_CODES = {
    "临江市江城区": "369902",
    "临江市东湖区": "369903",
    "临江市西山区": "369904",
    "临江市南岸区": "369905",
    "清河县": "369921",
    "北川县": "369922",
}


def platform_project_code(region_code, issued_on, serial, rng):
    """A project code of the platform's shape for a demo case: issued on ``issued_on`` (a date
    before November 2020 gives the old form, starting with the year), in ``region_code``, with an
    invented guiding department, project type and check digit (the platform's rule is not public)."""
    time_part = f"{issued_on.year}" if issued_on < datetime.date(2020, 11, 1) else f"{issued_on:%y%m}"
    department, project_type = rng.randint(1, 20), rng.choice([1, 2, 3])
    return f"{time_part}-{region_code}-{department:02d}-{project_type:02d}-{serial % 100000:05d}{rng.randint(0, 9)}"


PARKS = [
    ("临江高新技术产业开发区管委会", "高新区", "临江市江城区"),
    ("临江经济技术开发区管委会", "经开区", "临江市东湖区"),
    ("临港产业园管委会", "临港园", "临江市南岸区"),
]
PLATFORMS = [
    ("临江城市建设投资集团有限公司", "城投集团"),
    ("临江产业投资集团有限公司", "产投集团"),
    ("临江交通投资集团有限公司", "交投集团"),
]
BANKS = [
    ("国家开发银行临江分行", "国开行临江分行"),
    ("中国工商银行临江分行", "工行临江分行"),
    ("中国建设银行临江分行", "建行临江分行"),
    ("临江农村商业银行", "临江农商行"),
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "秀兰", "霞", "平", "刚", "建华", "志强", "海燕", "文博", "晓东", "国庆", "红梅", "立新"]

# Per industry: a code letter pair, typical product words and enterprise words.
INDUSTRY_PROFILES = {
    Industry.NEXT_GEN_IT: ("XX", ["智能终端", "集成电路封测", "5G基站配套", "数据中心"], "科技"),
    Industry.BIOTECH: ("SW", ["生物医药产业园", "疫苗生产基地", "医疗器械", "中药现代化"], "生物"),
    Industry.HIGH_END_EQUIPMENT: ("ZB", ["智能装备制造", "工业机器人", "精密数控机床"], "装备"),
    Industry.NEW_MATERIALS: ("CL", ["锂电正极材料", "高性能纤维", "电子级硅材料"], "新材料"),
    Industry.NEW_ENERGY: ("NY", ["光伏组件", "储能电站", "风电装备", "氢能产业园"], "新能源"),
    Industry.NEW_ENERGY_VEHICLES: ("QC", ["新能源汽车零部件", "动力电池", "智能网联汽车"], "汽车"),
    Industry.GREEN: ("HB", ["固废综合利用", "污水处理厂提标", "节能环保装备"], "环保"),
    Industry.DIGITAL_CREATIVE: ("SC", ["数字文创产业园", "动漫游戏基地"], "文化"),
    Industry.INFRASTRUCTURE: ("JC", ["快速路", "跨江大桥", "综合管廊", "物流枢纽"], "建设"),
    Industry.LIVELIHOOD: ("MS", ["人民医院新院区", "保障性租赁住房", "中小学新建"], "置业"),
    Industry.MODERN_SERVICES: ("FW", ["现代物流园", "商贸综合体", "文旅小镇"], "发展"),
    Industry.ADVANCED_MANUFACTURING: ("ZZ", ["绿色食品加工", "高端纺织", "智能家居制造"], "实业"),
    Industry.OTHER: ("QT", ["农业综合开发", "乡村振兴示范片"], "农业"),
}
# Industries whose projects a state industrial investor may lead: plants, not roads or schools.
INDUSTRIAL = {
    Industry.NEXT_GEN_IT,
    Industry.BIOTECH,
    Industry.HIGH_END_EQUIPMENT,
    Industry.NEW_MATERIALS,
    Industry.NEW_ENERGY,
    Industry.NEW_ENERGY_VEHICLES,
    Industry.ADVANCED_MANUFACTURING,
}

# How many projects end in each stage.
STAGE_PLAN = (
    [Stage.RESERVE] * 12
    + [Stage.PREWORK] * 18
    + [Stage.DOCKING] * 10
    + [Stage.FINANCING] * 8
    + [Stage.CONSTRUCTION] * 24
    + [Stage.COMPLETED] * 5
    + [Stage.SUSPENDED] * 2
    + [Stage.WITHDRAWN] * 1
)

BLOCKER_TEMPLATES = [
    ("land", "建设用地指标不足，需市级统筹调剂"),
    ("forestry", "项目红线涉及林地，使用林地手续待办"),
    ("energy", "能耗指标缺口，需纳入市级能耗统筹"),
    ("environment", "区域环境容量不足，排污总量指标待落实"),
    ("funds", "项目资本金未足额到位"),
    ("approvals", "施工图审查进度滞后"),
    ("demolition", "红线内征迁户尚未签约"),
    ("utilities", "110千伏供电线路配套未落实"),
]

# Who leads the work on a blocker of each category; demolition falls to the project's district.
BLOCKER_LEAD_UNIT = {
    "land": "临江市自然资源和规划局",
    "forestry": "临江市林业局",
    "energy": COMMISSION,
    "environment": "临江市生态环境局",
    "funds": "临江市财政局",
    "approvals": "临江市行政审批服务局",
    "utilities": "临江市住房和城乡建设局",
}

PREWORK_SET = [
    (PreworkKind.FILING, "临江市发展和改革委员会", 5),
    (PreworkKind.LAND, "临江市自然资源和规划局", 20),
    (PreworkKind.PLANNING, "临江市自然资源和规划局", 15),
    (PreworkKind.EIA, "临江市生态环境局", 30),
    (PreworkKind.ENERGY, "临江市发展和改革委员会", 15),
    (PreworkKind.CONSTRUCTION_PERMIT, "临江市住房和城乡建设局", 7),
]
# The construction permit is not needed to look for money; the construction guards ask for it.
OPTIONAL_PREWORK = {PreworkKind.CONSTRUCTION_PERMIT}

# The stories (see ``DemoBuilder.plan_stories``). A pace is the investment completed this year
# against the plan times the share of the year elapsed (序时进度); the lights turn yellow at a lag
# of 10 points and red beyond 30, so by late autumn a pace under 0.88 is yellow, under 0.64 red.
GREEN_PACE = (93, 110)  # in hundredths
RED_TWICE_PACE = Decimal("0.57")  # lags about 32 points at September's end and 36 at October's
RED_ONCE_PACE = Decimal("0.62")  # about 28 at September's end (yellow), 32 at October's (red)
STRUGGLING_UNIT = "临江产业投资集团有限公司"  # leads one plant, the one that lags at RED_ONCE_PACE
YELLOW_PACES = [Decimal("0.72"), Decimal("0.78"), Decimal("0.84")]
START_MISSED_DAYS = (45, 80)  # a planned start missed by weeks: yellow
START_MISSED_LONG_DAYS = 140  # missed by more than three months at the last lights: red
# Pre-work items left open past their statutory time: (kind, working days overdue), one per
# rung of the ladder (1 day: the unit head; 3: the leader; 5: a supervision order; 10: an interview).
OVERDUE_PREWORK = [
    (PreworkKind.PLANNING, 2),
    (PreworkKind.ENERGY, 4),
    (PreworkKind.LAND, 7),
    (PreworkKind.PLANNING, 13),
]
READY_PREWORK = 3  # cases in pre-work with every approval in hand, waiting to move on
BLOCKER_FATES = ["reported", "assigned", "resolved", "closed_out"]
BLOCKER_FATE_WEIGHTS = [15, 30, 15, 40]
LATE_BLOCKER = 2  # the second blocker left assigned is past its due date
REJECTED_BLOCKER = 3  # the third blocker of a case still under way was not one for the city
# The monthly cycles workflow/demo.py seeds report on the two months before this one; the
# investment of the months before them is recorded here, as the statistics gave it on this day
# of the month after.
CYCLE_MONTHS = 2
STATISTICS_DAY = 5
CENT = Decimal("0.01")
ONE_DAY = datetime.timedelta(days=1)


@dataclass
class Story:
    """What a case is meant to show."""

    pace: Decimal
    start_in_days: int  # the planned start, from today, of a case that has not started
    selected_weekdays_ago: int = 0  # a case still in pre-work: when it was selected
    overdue: tuple | None = None  # a case still in pre-work: (kind, working days overdue)
    lead_unit: str = ""  # a lead unit chosen for the story rather than by industry and region
    walk_through: bool = False  # the park's case in pre-work the demo walks through


def last_day(month):
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def next_month(month):
    return (month + datetime.timedelta(days=32)).replace(day=1)


def months_before(month, count):
    for _step in range(count):
        month = (month - ONE_DAY).replace(day=1)
    return month


def share_of_year(day):
    """The share of ``day``'s year elapsed at its end: the expected progress (序时进度) as a fraction."""
    return Decimal(day.timetuple().tm_yday) / Decimal(366 if calendar.isleap(day.year) else 365)


