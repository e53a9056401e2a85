"""Chinese call texts (简要案情) and addresses (案发地址) for the demo calls, assembled vectorially.

Each leaf has several templates; a template is a string with ``{slot}`` fields. Slots are filled per row from the
call's context (hour, place, loss) and from synonym pools, with NumPy ``StringDType`` concatenation over the rows of
one template at a time — no per-row Python loop except the amount phrases of rows that carry a loss. Some
templates and synonyms change weight over the years, which plants rising and falling terms (documented in
docs/demo-district.md and returned by :func:`anju.demo.truth.truth`). Afterwards a small share of texts gets a
typo, an ASCII comma or a phone number (which ingest must mask).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

import numpy as np

from anju.demo import names as N
from anju.demo.geography import District

__all__ = [
    "FALLING_TERMS",
    "RISING_TERMS",
    "TEXT_NOISE",
    "TextContext",
    "amount_phrase",
    "render_addresses",
    "render_texts",
]

SD = np.dtypes.StringDType()

# planted vocabulary shifts (weights per year index 0, 1, 2; later years use the last weight)
RISING_TERMS = ("屏幕共享", "AI换脸", "电动自行车")
FALLING_TERMS = ("电瓶车", "助动车")
TEXT_NOISE = {"typo": 0.03, "ascii_comma": 0.02, "phone_in_text": 0.02}
TYPOS = (("在", "再"), ("的", "地"), ("已经", "以经"), ("报警", "抱警"), ("左右", "左有"), ("现在", "现再"),
         ("电瓶车", "电平车"), ("事情", "事请"), ("楼下", "楼底下"), ("发现", "发觉"), ("要求", "要球"))

# ---- synonym pools: plain tuples, or {value: (w_year0, w_year1, w_year2)} for year-weighted ones ------------------
POOLS: dict[str, Any] = {
    "报": ("报警人称", "报警人称", "报警人报称", "来电称", "报警人反映", "报警人诉", "事主称", "报警人称：",
          "报警人来电称", "接群众报警称", "报警人自称"),
    "车": {"电瓶车": (1.0, 0.6, 0.3), "电动自行车": (0.3, 0.7, 1.4), "电动车": (1.0, 1.0, 1.0),
          "助动车": (0.3, 0.2, 0.1)},
    "牌": ("雅迪", "爱玛", "台铃", "新日", "小牛", "绿源", "九号", "立马"),
    "色": ("白色", "黑色", "红色", "蓝色", "灰色", "粉色", "银色"),
    "物": ("现金", "金项链", "手机", "笔记本电脑", "金手镯", "手表", "烟酒", "名牌包", "首饰", "现金和银行卡"),
    "亲": ("丈夫", "妻子", "老公", "老婆", "儿子", "女儿", "婆婆", "儿媳", "父亲", "母亲", "女婿", "弟弟", "哥哥"),
    "邻": ("楼上邻居", "楼下邻居", "对门邻居", "隔壁住户", "同楼层住户", "楼上住户"),
    "因": ("漏水", "占用楼道", "噪音", "停车位", "宠物狗", "晾衣服滴水", "装修", "楼道堆放杂物", "空调外机", "垃圾"),
    "平台": ("微信", "QQ", "抖音", "某短视频平台", "陌生APP", "某聊天软件", "某网站", "短信链接", "某社交平台"),
    "购": ("闲鱼", "朋友圈", "某二手平台", "微信群", "某网店", "直播间"),
    "人": ("一名男子", "一陌生男子", "两名男子", "一名女子", "一名中年男子", "几名年轻人", "一名外地口音男子"),
    "酒": ("酒吧", "KTV", "烧烤店", "夜宵店", "饭店", "小龙虾店"),
    "尾": ("，请民警到场处理", "，要求民警到场", "，请求出警", "，请民警帮忙", "", "", "", "，现场情绪激动",
          "，要求处理", "，不知道咋办"),
    "尾纠": ("，双方情绪激动", "，要求民警到场调解", "，现场有推搡", "，请民警处理", "", "", "，吵得很凶",
            "，双方各执一词"),
    "餐": ("饭店", "餐馆", "火锅店", "面馆", "快餐店", "烧烤店", "小吃店"),
    "商": ("饭店", "理发店", "健身房", "超市", "奶茶店", "培训机构", "装修公司", "手机店", "美容院", "洗车店"),
    "工": ("工地", "饭店", "厂里", "公司", "装修队", "快递站点"),
    "品": ("手机", "钱包", "身份证", "背包", "钥匙", "电脑包", "银行卡"),
    "龄": ("70多岁", "80多岁", "六七岁", "8岁左右", "十几岁", "60多岁", "患有老年痴呆的"),
    "走": ("老人", "孩子", "父亲", "母亲", "儿子", "女儿", "奶奶", "爷爷"),
    "平": ("游戏", "某手游", "网络游戏"),
}

# ---- templates per leaf: (template, year weights) ------------------------------------------------------------------
_T = tuple[str, tuple[float, float, float]]
ONE = (1.0, 1.0, 1.0)


def _t(*items: str | tuple[str, tuple[float, float, float]]) -> list[_T]:
    return [(i, ONE) if isinstance(i, str) else i for i in items]


TEMPLATES: dict[str, list[_T]] = {
    "theft.burglary": _t(
        "{报}{时}回家发现家中被盗，门锁有撬压痕迹，{物}被盗，{损}{尾}",
        "{报}家住{址}，{时}发现有人入室盗窃，屋内被翻乱，{损}",
        "{报}其位于{址}的家中被撬门入室，丢失{物}，{损}{尾}",
        "{报}{时}发现窗户被撬，家中{物}被偷了，{损}",
        "{报}出租屋内财物被盗，怀疑有人翻窗进入，{损}{尾}",
    ),
    "theft.nonmotor": _t(
        "{报}{时}停放在{址}楼下的{色}{牌}{车}被盗，{损}",
        "{报}其{色}{车}停在{址}，{时}发现车子不见了，{损}{尾}",
        "{报}停在小区非机动车棚的{牌}{车}被偷，{损}",
        "{报}{时}在{址}门口停放的{车}被人骑走，{损}，要求调取监控",
        "{报}自己的{色}{牌}{车}在{址}充电时被盗，{损}",
    ),
    "theft.battery": _t(
        "{报}停放在{址}的{车}电瓶被盗，{损}",
        "{报}{时}发现{车}的电瓶被人偷走了，{损}{尾}",
        "{报}小区车棚内多辆{车}电瓶被盗，其中自己的一块{损}",
        "{报}{色}{牌}{车}电池被偷，{损}，怀疑是夜里被盗的",
    ),
    "theft.parcel": _t(
        "{报}放在{址}门口的快递被人拿走，{损}",
        "{报}快递柜旁的包裹被盗，{损}{尾}",
        "{报}{时}点的外卖被人偷拿，{损}",
        "{报}放在驿站门口的快递不见了，{损}，要求查看监控",
    ),
    "theft.vehicle": _t(
        "{报}{时}停在{址}的轿车被盗，{损}",
        "{报}其停放在小区内的汽车不见了，{损}{尾}",
        "{报}{时}发现停在路边的摩托车被盗，{损}",
    ),
    "theft.from_vehicle": _t(
        "{报}停在{址}的车辆车窗被砸，车内{物}被盗，{损}",
        "{报}{时}发现车内财物被盗，{损}{尾}",
        "{报}车停在{址}，车门被撬，车内{物}丢失，{损}",
    ),
    "theft.pickpocket": _t(
        "{报}在{址}附近手机被偷，{损}",
        "{报}{时}在{址}钱包被扒窃，{损}{尾}",
        "{报}在地铁站附近被扒手偷走手机，{损}",
        "{报}在{址}逛街时包里的钱包被偷，{损}",
    ),
    "theft.shop": _t(
        "{报}店内商品被盗，{损}，有监控",
        "{报}{时}发现店里收银台现金被偷，{损}{尾}",
        "{报}超市内有人偷拿商品被当场发现，{损}",
        "{报}店铺夜间被盗，{损}",
    ),
    "theft.other": _t(
        "{报}放在{址}的物品被盗，{损}",
        "{报}{时}发现放在楼道的东西被偷，{损}{尾}",
        "{报}工地上的电缆被盗，{损}",
    ),
    "robbery.robbery": _t(
        "{报}{时}在{址}被{人}持刀抢劫，{损}{尾}",
        "{报}在{址}被人拦住抢走财物，{损}，嫌疑人已逃离",
    ),
    "robbery.snatch": _t(
        "{报}{时}在{址}被{人}骑车抢走手机，{损}",
        "{报}走在路上被人飞车抢夺挎包，{损}{尾}",
        "{报}在{址}项链被人抢走，{损}",
    ),
    "fraud.rebate": _t(
        "{报}在{平台}上看到刷单兼职，按要求做任务刷单返利，{骗}",
        "{报}{时}被人拉进刷单群，对方称完成任务可返佣金，{骗}",
        "{报}在{平台}做刷单任务，前几单有返利，后面要求连续垫付，{骗}{尾}",
        "{报}遭遇刷单返利诈骗，{骗}，对方已将其拉黑",
    ),
    "fraud.fake_service": [
        ("{报}接到自称某电商平台客服的电话，称其商品有质量问题可以退款理赔，{骗}", ONE),
        ("{报}对方冒充快递客服称包裹丢失要理赔，按对方要求操作后{骗}", ONE),
        ("{报}接到自称客服电话称其开通了会员要注销，否则每月扣费，{骗}{尾}", ONE),
        ("{报}冒充客服的人让其下载会议软件开启屏幕共享，{骗}", (0.2, 0.6, 1.8)),
        ("{报}按照假客服要求屏幕共享后银行卡被转走钱款，{骗}", (0.2, 0.6, 1.8)),
    ],
    "fraud.fake_authority": _t(
        "{报}接到自称公安局的电话，称其涉嫌洗钱需要将资金转入安全账户，{骗}",
        "{报}对方冒充检察院工作人员称其被通缉，要求配合调查转账，{骗}{尾}",
        "{报}接到冒充公检法的电话，对方出示假通缉令，{骗}",
    ),
    "fraud.fake_loan": _t(
        "{报}在{平台}申请网贷，对方以解冻费、手续费为由要求转账，{骗}",
        "{报}通过陌生链接办理贷款，被要求先交保证金，{骗}{尾}",
        "{报}对方称可以无抵押贷款，需先缴纳刷流水费用，{骗}",
    ),
    "fraud.romance": _t(
        "{报}在{平台}认识一网友，交往后被诱导在某平台投资，{骗}",
        "{报}网恋对象以各种理由向其借钱，后发现被骗，{骗}{尾}",
        "{报}遭遇杀猪盘，婚恋交友网站认识的男友带其投资，{骗}",
    ),
    "fraud.fake_shopping": _t(
        "{报}在{购}上购买商品，付款后对方不发货并将其拉黑，{骗}",
        "{报}在{购}看到低价代购，转账后联系不上卖家，{骗}{尾}",
        "{报}网购二手手机付款后对方失联，{骗}",
    ),
    "fraud.game": _t(
        "{报}在{平}中交易装备，对方收钱后未交付，{骗}",
        "{报}孩子玩{平}时被人以低价卖皮肤为由诱导转账，{骗}{尾}",
        "{报}网上买游戏账号被骗，{骗}",
    ),
    "fraud.fake_acquaintance": [
        ("{报}接到冒充领导的QQ消息要求转账，{骗}", ONE),
        ("{报}对方冒充其老同学称急需用钱，{骗}{尾}", ONE),
        ("{报}接到冒充熟人的电话借钱，{骗}", ONE),
        ("{报}对方用AI换脸冒充亲戚视频通话借钱，{骗}", (0.1, 0.4, 1.6)),
        ("{报}接到熟人视频电话后转账，事后发现是AI换脸，{骗}", (0.1, 0.4, 1.6)),
    ],
    "fraud.investment": _t(
        "{报}被人拉进炒股群，在虚假投资平台上投资理财，{骗}",
        "{报}在{平台}认识所谓投资导师，投资虚拟币无法提现，{骗}{尾}",
        "{报}在理财平台投资后平台无法登录，{骗}",
        "{报}听信高额回报在某投资APP充值，{骗}",
    ),
    "fraud.other": _t(
        "{报}被人以办理业务为由诈骗，{骗}",
        "{报}接到陌生电话后按要求转账，{骗}{尾}",
        "{报}被骗，{骗}，具体情况不清楚",
    ),
    "assault.beating": _t(
        "{报}在{址}与人发生口角后被打，{尾}",
        "{报}{时}在{址}被{人}殴打，脸部受伤",
        "{报}在{址}有人打架，请民警到场",
        "{报}与{人}因琐事发生争执，被对方打了几拳{尾}",
    ),
    "assault.injury": _t(
        "{报}在{址}被人打伤，头部流血，已叫120",
        "{报}{时}被{人}用酒瓶砸伤{尾}",
        "{报}双方斗殴，一人被砍伤，现场有血迹",
    ),
    "assault.domestic": _t(
        "{报}被{亲}殴打，身上有伤{尾}",
        "{报}家住{址}，{时}被老公打了，要求处理",
        "{报}遭到家暴，{亲}动手打人，情绪激动",
    ),
    "dispute.neighbour": _t(
        "{报}与{邻}因{因}问题发生纠纷{尾纠}",
        "{报}家住{址}，{邻}{因}影响生活，多次沟通无果{尾纠}",
        "{报}和{邻}因为{因}吵起来了{尾纠}",
        "{报}{时}与邻居发生口角，因{因}产生矛盾{尾纠}",
        "{报}{邻}因{因}问题长期影响其生活，双方发生争吵，要求民警调解",
    ),
    "dispute.family": _t(
        "{报}与{亲}因家庭琐事发生争吵{尾纠}",
        "{报}家住{址}，夫妻吵架，{亲}摔东西{尾纠}",
        "{报}与{亲}因赡养老人问题发生纠纷{尾纠}",
        "{报}{时}和{亲}吵架，对方不让其进门{尾纠}",
        "{报}婆媳矛盾，双方吵得厉害{尾纠}",
    ),
    "dispute.drunk": _t(
        "{报}{时}在{址}有人酒后闹事{尾纠}",
        "{报}在{酒}内与人发生纠纷，对方喝多了{尾纠}",
        "{报}{人}酒后在{址}滋事，摔酒瓶{尾纠}",
        "{报}在{酒}门口有醉酒男子与人争吵{尾纠}",
        "{报}{时}朋友喝醉后与他人发生口角{尾纠}",
        "{报}在{酒}有喝多了的客人不肯结账，双方争执{尾纠}",
    ),
    "dispute.consumer": _t(
        "{报}在{商}消费后与商家发生纠纷，要求退款{尾纠}",
        "{报}与{商}因退货问题发生争执{尾纠}",
        "{报}在{址}{商}办卡后商家跑路，要求退钱",
        "{报}在{餐}吃饭发现异物，与店家发生纠纷{尾纠}",
        "{报}在{餐}用餐后对收费有异议，与老板发生争执{尾纠}",
    ),
    "dispute.property": _t(
        "{报}与物业因停车费问题发生纠纷{尾纠}",
        "{报}与小区物业因物业费发生争执{尾纠}",
        "{报}物业不让其车辆进入小区，双方争吵{尾纠}",
        "{报}家住{址}，与物业因维修问题发生纠纷",
    ),
    "dispute.labour": _t(
        "{报}{工}老板拖欠工资不给，要求处理{尾纠}",
        "{报}与{工}老板因工资结算发生纠纷{尾纠}",
        "{报}在{工}干活被欠薪，老板不接电话",
        "{报}被公司辞退后未结清工资，双方争执{尾纠}",
    ),
    "dispute.tenancy": _t(
        "{报}与房东因押金退还问题发生纠纷{尾纠}",
        "{报}房东要求其搬走，双方发生争执{尾纠}",
        "{报}家住{址}，租客拖欠房租不搬{尾纠}",
        "{报}与二房东因房租发生纠纷{尾纠}",
    ),
    "dispute.traffic": _t(
        "{报}在{址}与他人车辆发生剐蹭，双方对责任有争议{尾纠}",
        "{报}停车时与人发生碰擦纠纷{尾纠}",
        "{报}在{址}因让路问题与其他司机发生争执",
        "{报}{时}电动车与轿车碰擦，双方争吵{尾纠}",
    ),
    "dispute.other": _t(
        "{报}与他人因琐事发生纠纷{尾纠}",
        "{报}在{址}与人发生口角{尾纠}",
        "{报}与朋友因借款问题发生纠纷{尾纠}",
    ),
    "public_order.gambling": _t(
        "{报}{址}有人聚众赌博",
        "{报}某棋牌室内有人打麻将赌博，赌资较大",
        "{报}{时}出租屋内有人聚赌，人员进出频繁",
    ),
    "public_order.drugs": _t(
        "{报}{址}附近有人疑似吸毒",
        "{报}在{酒}内发现有人吸食毒品",
        "{报}怀疑出租屋内有人贩毒",
    ),
    "public_order.prostitution": _t(
        "{报}{址}某足浴店疑似有卖淫嫖娼活动",
        "{报}{时}有人在{址}散发色情小卡片",
    ),
    "public_order.provocation": _t(
        "{报}{人}在{址}寻衅滋事，随意殴打路人",
        "{报}{时}有人在{址}聚众滋事{尾}",
        "{报}几名年轻人在{酒}门口寻衅滋事",
    ),
    "public_order.suspicious": _t(
        "{报}{址}有可疑人员徘徊{尾}",
        "{报}{时}发现{人}在楼道里挨家挨户敲门，形迹可疑",
        "{报}有陌生人在小区内查看非机动车，怀疑是小偷",
        "{报}{址}有陌生人尾随进入单元门",
    ),
    "public_order.high_throw": _t(
        "{报}{址}有人高空抛物，砸到楼下车辆",
        "{报}楼上有人往下扔垃圾，差点砸到人{尾}",
        "{报}{时}有花盆从楼上掉下{尾}",
    ),
    "traffic.accident": _t(
        "{报}在{址}发生交通事故，两车追尾{尾}",
        "{报}{时}在{址}电动车与轿车相撞，有人受伤",
        "{报}在{址}被车撞了，对方司机要逃逸",
        "{报}{址}发生一起单方事故，车辆撞到护栏",
    ),
    "traffic.congestion": _t(
        "{报}{址}交通拥堵严重，请求疏导",
        "{报}{时}{址}堵车，信号灯故障",
        "{报}{址}车辆排长队，有车辆加塞",
    ),
    "traffic.drunk_driving": _t(
        "{报}{址}有人疑似酒驾",
        "{报}{时}发现一辆车行驶不稳，司机疑似醉驾",
        "{报}朋友喝了酒还要开车，劝阻不听",
    ),
    "traffic.parking": _t(
        "{报}{址}有车辆乱停车堵住出口",
        "{报}有车辆堵门无法出行，联系不上车主{尾}",
        "{报}{址}车辆违停占道",
    ),
    "fire.fire": _t(
        "{报}{址}着火，有浓烟冒出",
        "{报}{时}{址}楼道里电动车起火{尾}",
        "{报}家中厨房起火，火势较小已扑灭",
        "{报}{址}垃圾桶着火",
    ),
    "fire.gas": _t(
        "{报}{址}闻到很大的燃气味，怀疑燃气泄漏",
        "{报}家里煤气管道漏气{尾}",
        "{报}楼道有燃气气味，请求处置",
    ),
    "help.missing_person": _t(
        "{报}家中{龄}{走}走失，{时}出门后一直未归",
        "{报}{走}外出后失联，手机打不通{尾}",
        "{报}在{址}与{走}走散，找不到人",
    ),
    "help.lost_property": _t(
        "{报}在{址}附近遗失{品}",
        "{报}{时}{品}丢失，请求帮助寻找",
        "{报}将{品}落在出租车上",
    ),
    "help.locked_out": _t(
        "{报}钥匙锁在家里进不了门，请求开锁",
        "{报}家住{址}，钥匙丢了，要求帮忙开锁",
        "{报}{时}家中老人被反锁在屋内",
    ),
    "help.medical": _t(
        "{报}{址}有人晕倒，请求救助",
        "{报}家中老人突发急病，已拨打120",
        "{报}{时}在{址}有人身体不适倒地",
    ),
    "help.rescue": _t(
        "{报}{址}有人被困电梯",
        "{报}有小孩被困在车内{尾}",
        "{报}{时}河边有人落水",
        "{报}有猫被困在树上下不来",
    ),
    "help.water_leak": _t(
        "{报}家住{址}，楼上漏水严重，联系不上楼上住户",
        "{报}家中水管爆裂漏水{尾}",
        "{报}{时}发现屋顶渗水，楼上无人",
    ),
    "help.suicide": _t(
        "{报}{址}有人站在楼顶欲轻生",
        "{报}朋友发消息称想自杀，现联系不上{尾}",
        "{报}{时}有人在河边情绪低落，疑似轻生",
    ),
    "noise.residential": _t(
        "{报}{邻}噪音扰民，影响休息",
        "{报}{时}楼上装修噪音很大{尾}",
        "{报}家住{址}，隔壁深夜吵闹不休",
        "{报}{邻}半夜唱歌吵闹，多次敲门无果",
    ),
    "noise.construction": _t(
        "{报}{址}附近工地夜间施工噪音扰民",
        "{报}{时}工地施工声音很大影响休息",
        "{报}附近工地深夜施工，要求处理",
    ),
    "noise.business": _t(
        "{报}{址}广场舞音响声音太大",
        "{报}{酒}音乐声很大，影响周边居民休息",
        "{报}{时}{址}商家用喇叭招揽顾客噪音扰民",
    ),
    "other.consult": _t(
        "{报}咨询户口办理事宜",
        "{报}咨询居住证办理流程",
        "{报}询问身份证丢失后怎么补办",
        "{报}咨询出入境证件办理",
    ),
    "other.harassing": _t(
        "{报}接到骚扰电话{尾}",
        "无声电话，回拨无人接听",
        "{报}多次收到陌生号码骚扰短信",
    ),
    "other.false_alarm": _t(
        "报警人误拨110",
        "误报，报警人称打错了",
        "小孩玩手机误拨，无警情",
    ),
}


@dataclass
class TextContext:
    """Per-row arrays the templates read (one month chunk)."""

    leaf: np.ndarray  # leaf index into leaves
    leaves: tuple[str, ...]
    hour: np.ndarray
    loc_kind: np.ndarray  # 0 building, 1 road point, 2 zone point
    pidx: np.ndarray  # index into the building / road / zone pool
    comm: np.ndarray
    loss: np.ndarray  # NaN when none
    year_index: int


_POOL_CACHE: dict[tuple[str, int], tuple[np.ndarray, np.ndarray | None]] = {}


def _pool_pick(name: str, n: int, rng: np.random.Generator, year_index: int) -> Any:
    key = (name, min(year_index, 2))
    if key not in _POOL_CACHE:
        pool = POOLS[name]
        if isinstance(pool, dict):
            w = np.array([pool[v][key[1]] for v in pool], dtype=float)
            _POOL_CACHE[key] = (np.array(list(pool), dtype=SD), np.cumsum(w / w.sum()))
        else:
            _POOL_CACHE[key] = (np.array(pool, dtype=SD), None)
    values, cdf = _POOL_CACHE[key]
    if cdf is None:
        return values[rng.integers(len(values), size=n)]
    return values[np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(values) - 1)]


_PERIOD = np.array(["凌晨"] * 6 + ["早上"] * 3 + ["上午"] * 3 + ["中午"] + ["下午"] * 5 + ["傍晚"] + ["晚上"] * 5,
                   dtype=object)
_CN_DIGITS = "零一二三四五六七八九"


def _time_phrase(hours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _TIME_TABLE[rng.integers(0, _TIME_TABLE.shape[0], len(hours)), hours]


def _time_table() -> np.ndarray:
    rows = []
    for style in range(5):
        row = []
        for h in range(24):
            h12 = 12 if h % 12 == 0 else h % 12
            row.append([f"{h}时许", f"今天{_PERIOD[h]}{h12}点左右", "刚才", f"{_PERIOD[h]}", f"{h}点多"][style])
        rows.append(row)
    return np.array(rows, dtype=SD)


_TIME_TABLE = _time_table()


def _cn_number(v: int) -> str:
    """1..99 in Chinese numerals (一, 十二, 三十五)."""
    if v < 10:
        return _CN_DIGITS[v]
    t, u = divmod(v, 10)
    return ("" if t == 1 else _CN_DIGITS[t]) + "十" + ("" if u == 0 else _CN_DIGITS[u])


def _cn_lead(v: int) -> str:
    """A count before 百/千/万: 两 for 2 (两千, 两万), else the plain numeral."""
    return "两" if v == 2 else _cn_number(v)


def amount_phrase(v: float, style: int) -> str:
    """One of several Chinese ways to write an amount of ``v`` yuan (documented; ``余`` means "a bit more than").

    Styles: 0 ``12800元``; 1 ``12,800元``; 2 ``人民币12800元``; 3 ``1.28万元``/``3万`` (only when exact);
    4 ``一万余元``/``五千余元``/``3万余元`` (floor of the leading unit, value strictly above it);
    5 ``约12800元``; 6 Chinese numerals when exact (``三万元``, ``五千元``, ``八百元``).
    """
    iv = round(v)
    exact_int = abs(v - iv) < 1e-9
    num = f"{iv}" if exact_int else f"{v:.2f}".rstrip("0").rstrip(".")
    if style == 1 and iv >= 1000:
        return (f"{iv:,}" if exact_int else f"{v:,.2f}".rstrip("0").rstrip(".")) + "元"
    if style == 2:
        return f"人民币{num}元"
    if style == 3 and exact_int and iv >= 10000 and iv % 100 == 0:
        ws = f"{iv / 10000:.4f}".rstrip("0").rstrip(".")
        return f"{ws}万" + ("元" if (iv // 100) % 2 == 0 else "")
    if style == 4 and iv >= 100:
        if iv >= 10000:
            base, unit = iv // 10000, "万"
            rest = iv - base * 10000
        elif iv >= 1000:
            base, unit = iv // 1000, "千"
            rest = iv - base * 1000
        else:
            base, unit = iv // 100, "百"
            rest = iv - base * 100
        if rest > 0 or not exact_int:
            if base < 100 and (unit != "万" or base < 10):
                return f"{_cn_lead(int(base))}{unit}余元"
            return f"{base}{unit}余元"
    if style == 5:
        return f"约{num}元"
    if style == 6 and exact_int:
        for div, unit, most in ((10000, "万", 100), (1000, "千", 10), (100, "百", 10)):
            if iv >= div and iv % div == 0 and iv // div < most:
                return f"{_cn_lead(iv // div)}{unit}元"
    return f"{num}元"


def _amounts(loss: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    styles = rng.integers(0, 7, len(loss))
    return np.array([amount_phrase(float(v), int(s)) for v, s in zip(loss, styles, strict=True)], dtype=SD)


_LOSS_YES = ("损失{a}", "价值{a}", "共计损失{a}", "涉案{a}", "损失了{a}", "价值{a}左右")
_LOSS_NO = ("具体损失待核实", "损失不详", "暂未清点损失", "损失情况不清楚")
_FRAUD_YES = ("被骗{a}", "共被骗{a}", "先后转账{a}", "损失{a}", "被骗走{a}", "共计转账{a}")
_FRAUD_NO = ("尚未转账", "未造成损失", "及时发现未被骗", "暂未发现损失")


def _loss_clause(loss: np.ndarray, rng: np.random.Generator, fraud: bool) -> np.ndarray:
    yes, no = (_FRAUD_YES, _FRAUD_NO) if fraud else (_LOSS_YES, _LOSS_NO)
    n = len(loss)
    out = np.array(no, dtype=SD)[rng.integers(len(no), size=n)]
    has = ~np.isnan(loss)
    if has.any():
        amt = _amounts(loss[has], rng)
        pick = rng.integers(len(yes), size=int(has.sum()))
        res = np.empty(int(has.sum()), dtype=SD)
        for k, tpl in enumerate(yes):
            sel = pick == k
            if sel.any():
                pre, post = tpl.split("{a}")
                res[sel] = np.strings.add(np.strings.add(pre, amt[sel]), post)
        out[has] = res
    return out


def _tables(d: District) -> dict[str, Any]:
    """Per-building / road-point / zone phrase tables, built once per district (indexing beats concatenating)."""
    if "texts" in d.cache:
        return d.cache["texts"]
    cn = np.array(d.communities.names, dtype=SD)
    roads = np.array(d.road_names, dtype=SD)
    c = d.b_comm
    no = d.b_no.astype(SD)
    lane = np.strings.add(np.strings.add(roads[d.comm_road[c]], d.comm_lane[c].astype(SD)), "弄")
    house = np.strings.add(np.strings.add(lane, no), "号")
    lane_cn = np.strings.add(np.strings.add(np.strings.add(lane, "（"), cn[c]), "）")
    t: dict[str, Any] = {}
    # text place phrases and addresses for buildings: rows = style, columns = building
    t["place_b"] = np.stack([np.strings.add(np.strings.add(cn[c], no), "号"),
                             np.strings.add(np.strings.add(cn[c], no), "号楼"), house,
                             np.strings.add(np.strings.add("本小区", no), "号楼"), cn[c]])
    t["addr_b"] = np.stack([house, np.strings.add(N.DISTRICT_NAME, house),
                            np.strings.add(np.strings.add(cn[c], no), "号"), lane_cn])
    t["addr_b_p"] = np.array([0.25, 0.35, 0.20, 0.20])
    road, cross = roads[d.rp_road], roads[d.rp_cross]
    rno = d.rp_no.astype(SD)
    t["place_r"] = np.stack([np.strings.add(np.strings.add(road, cross), "路口"),
                             np.strings.add(np.strings.add(road, "近"), cross),
                             np.strings.add(np.strings.add(road, rno), "号门口")])
    t["addr_r"] = np.strings.add(N.DISTRICT_NAME, np.stack([
        np.strings.add(np.strings.add(road, rno), "号附近"),
        np.strings.add(np.strings.add(np.strings.add(road, "与"), cross), "交叉口"),
        np.strings.add(np.strings.add(road, "近"), cross)]))
    zroad = [nm[: nm.index("路") + 1] for nm in d.zone_names]
    bars = list(N.BAR_NAMES)
    # zone phrases: [feature, bar, style] and addresses [feature, door number, bar]
    t["place_z"] = np.array([[[zr + b, b + "门口", zr + "夜宵街"] for b in bars] for zr in zroad], dtype=SD)
    t["addr_z"] = np.array([[[f"{N.DISTRICT_NAME}{zr}{2 * k + 1}号{b}" for b in bars] for k in range(1, 120)]
                            for zr in zroad], dtype=SD)
    t["room"] = np.array([f"{f * 100 + u}室" for f in range(1, 19) for u in range(1, 5)], dtype=SD)
    d.cache["texts"] = t
    return t


def _place(ctx: TextContext, rows: np.ndarray, d: District, rng: np.random.Generator) -> np.ndarray:
    """Short place phrase used inside texts."""
    t = _tables(d)
    n = len(rows)
    out = np.empty(n, dtype=SD)
    kind = ctx.loc_kind[rows]
    pidx = ctx.pidx[rows]
    b = kind == 0
    if b.any():
        out[b] = t["place_b"][rng.integers(0, 5, int(b.sum())), pidx[b]]
    r = kind == 1
    if r.any():
        out[r] = t["place_r"][rng.integers(0, 3, int(r.sum())), pidx[r]]
    z = kind == 2
    if z.any():
        k = int(z.sum())
        out[z] = t["place_z"][d.zp_feature[pidx[z]], rng.integers(len(N.BAR_NAMES), size=k),
                              rng.integers(0, 3, k)]
    return out


def _select(choice: np.ndarray, options: list[np.ndarray]) -> np.ndarray:
    out = options[0].copy()
    for k in range(1, len(options)):
        sel = choice == k
        out[sel] = options[k][sel]
    return out


_FORMATTER = string.Formatter()


def _parts(tpl: str) -> list[tuple[str, str | None]]:
    return [(lit, field) for lit, field, _, _ in _FORMATTER.parse(tpl)]


def render_texts(ctx: TextContext, d: District, rng: np.random.Generator, phones: np.ndarray) -> np.ndarray:
    """简要案情 for every row of a chunk (StringDType array)."""
    n = len(ctx.leaf)
    out = np.empty(n, dtype=SD)
    order = np.argsort(ctx.leaf, kind="stable")
    bounds = np.flatnonzero(np.diff(ctx.leaf[order])) + 1
    for rows in np.split(order, bounds):
        if not len(rows):
            continue
        code = ctx.leaves[int(ctx.leaf[rows[0]])]
        tpls = TEMPLATES[code]
        w = np.array([t[1][min(ctx.year_index, 2)] for t in tpls])
        choice = rng.choice(len(tpls), size=len(rows), p=w / w.sum())
        for k, (tpl, _) in enumerate(tpls):
            sub = rows[choice == k]
            if not len(sub):
                continue
            out[sub] = _fill(tpl, sub, ctx, d, rng, code)
    _noise(out, rng, phones)
    return out


def _fill(tpl: str, rows: np.ndarray, ctx: TextContext, d: District, rng: np.random.Generator,
          code: str) -> np.ndarray:
    m = len(rows)
    acc: np.ndarray = np.full(m, "", dtype=SD)
    for lit, field in _parts(tpl):
        if lit:
            acc = np.strings.add(acc, lit)
        if field is None:
            continue
        if field == "时":
            val = _time_phrase(ctx.hour[rows], rng)
        elif field == "址":
            val = _place(ctx, rows, d, rng)
        elif field == "损":
            val = _loss_clause(ctx.loss[rows], rng, fraud=False)
        elif field == "骗":
            val = _loss_clause(ctx.loss[rows], rng, fraud=True)
        else:
            val = _pool_pick(field, m, rng, ctx.year_index)
        acc = np.strings.add(acc, val)
    return acc


def _noise(out: np.ndarray, rng: np.random.Generator, phones: np.ndarray) -> None:
    n = len(out)
    typo = np.flatnonzero(rng.random(n) < TEXT_NOISE["typo"])
    if len(typo):
        which = rng.integers(len(TYPOS), size=len(typo))
        for k, (a, b) in enumerate(TYPOS):
            sel = typo[which == k]
            if len(sel):
                out[sel] = np.strings.replace(out[sel], a, b, 1)
    comma = np.flatnonzero(rng.random(n) < TEXT_NOISE["ascii_comma"])
    if len(comma):
        out[comma] = np.strings.replace(out[comma], "，", ",")
    ph = np.flatnonzero(rng.random(n) < TEXT_NOISE["phone_in_text"])
    if len(ph):
        lead = np.array(("，联系电话", "，回拨电话", "，对方电话", "，报警人手机", "，电话"), dtype=SD)
        out[ph] = np.strings.add(np.strings.add(out[ph], lead[rng.integers(len(lead), size=len(ph))]), phones[ph])


def render_addresses(ctx: TextContext, d: District, rng: np.random.Generator, room_leaves: np.ndarray) -> np.ndarray:
    """案发地址 for every row: 路/弄/号/室 for buildings, crossings for roads, venues in the night-life zone."""
    t = _tables(d)
    n = len(ctx.leaf)
    out = np.empty(n, dtype=SD)
    b = np.flatnonzero(ctx.loc_kind == 0)
    if len(b):
        style = rng.choice(len(t["addr_b_p"]), size=len(b), p=t["addr_b_p"])
        addr = t["addr_b"][style, ctx.pidx[b]]
        with_room = room_leaves[ctx.leaf[b]] & (rng.random(len(b)) < 0.9)
        room = t["room"][rng.integers(0, len(t["room"]), int(with_room.sum()))]
        addr[with_room] = np.strings.add(addr[with_room], room)
        out[b] = addr
    r = np.flatnonzero(ctx.loc_kind == 1)
    if len(r):
        out[r] = t["addr_r"][rng.integers(0, 3, len(r)), ctx.pidx[r]]
    z = np.flatnonzero(ctx.loc_kind == 2)
    if len(z):
        out[z] = t["addr_z"][d.zp_feature[ctx.pidx[z]], rng.integers(0, t["addr_z"].shape[1], len(z)),
                             rng.integers(len(N.BAR_NAMES), size=len(z))]
    return out
