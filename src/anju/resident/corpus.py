"""A seeded, labelled corpus of resident reports to bootstrap the report router before real labelled reports exist.

Texts are composed from phrase pools per matter (police, lost, market, property, street_order, mediation, consult):
who/where openings, the problem, a detail and a request, with random omissions, so that the classifier learns the
problem words rather than fixed sentences. Each deployment should retrain on its own handled reports (the matter
a handler confirmed), which :func:`anju.resident.routing.train_router` accepts the same way.

The routing test set in ``tests/resident/data/`` is written separately, by hand, so the accuracy reported in the docs
is measured on phrasing the generator never produces.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MATTER_PHRASES", "synthetic_reports"]

_OPEN = ["", "您好，", "你好，", "我是本小区居民，", "我住在这栋楼，", "扫码反映一下，", "麻烦处理一下：", "请问，"]
_CLOSE = ["", "请尽快处理。", "希望有关部门管一管。", "谢谢！", "请派人来看看。", "麻烦尽快回复。", "已经好几次了。"]

MATTER_PHRASES: dict[str, dict[str, list[str]]] = {
    "police": {
        "problem": ["有人在楼道里打架", "楼下有人持刀吵闹", "电动车被偷了", "家里被盗了，门锁被撬", "有人在小区里偷东西",
                    "有陌生人一直尾随我", "有人醉酒闹事砸东西", "发现有人在撬车门", "看到有人打人", "被人抢了手机",
                    "家门口有可疑人员徘徊", "遭遇诈骗被骗了钱", "有人在楼顶要跳楼", "邻居家传出呼救声",
                    "有人在停车场砸车窗", "被人威胁恐吓", "店里有人寻衅滋事"],
        "detail": ["", "现在还在现场", "情况紧急", "对方人很多", "有人受伤流血了", "刚刚发生", "已经跑了"],
    },
    "lost": {
        "problem": ["孩子走丢了找不到", "家里老人出门没回来", "我家老人有老年痴呆走失了", "钱包丢了", "手机丢在小区里了",
                    "捡到一个钱包", "钥匙丢了", "捡到一部手机想交给警察", "狗丢了", "身份证丢了",
                    "孩子放学没回家", "捡到一个走失的小孩"],
        "detail": ["", "穿红色外套", "大概中午的时候", "可能在菜市场附近", "里面有证件", "七十多岁"],
    },
    "market": {
        "problem": ["老街上的店铺卖假货", "商家缺斤短两", "买的东西有质量问题商家不退货", "饭店多收费", "商户价格欺诈",
                    "店家强买强卖", "商铺不给开发票", "食品过期了还在卖", "景区商店宰客", "奶茶店用过期原料",
                    "超市标价和结账价格不一样", "理发店办卡后跑路", "和店主因为退款吵起来了", "商家拒绝退押金",
                    "游客和小摊贩发生价格纠纷", "预付卡消费不退钱"],
        "detail": ["", "店主态度很差", "金额两百多元", "已经跟店家交涉过", "有小票", "不止我一个人遇到"],
    },
    "property": {
        "problem": ["物业不作为", "电梯坏了好几天没人修", "小区门禁坏了", "楼道灯坏了物业不管", "物业乱收费",
                    "地下室漏水", "屋顶漏水物业推诿", "小区监控坏了", "物业费上涨不合理", "群租房住了很多人",
                    "楼上违规改建房屋", "小区消防通道被堵", "业主委员会选举有问题", "房东不退押金",
                    "小区绿化被毁", "楼道里堆满杂物"],
        "detail": ["", "反映多次没人处理", "已经一个月了", "存在安全隐患", "老人上下楼很不方便"],
    },
    "street_order": {
        "problem": ["路边占道经营", "小摊贩堵路", "夜市烧烤油烟扰民", "乱贴小广告", "店铺外摆占用人行道",
                    "违章停车堵住路口", "工地夜间施工噪音", "垃圾桶满了没人清运", "路边乱倒建筑垃圾",
                    "共享单车乱停乱放", "广场舞音响太吵", "流动商贩乱摆摊", "街边乞讨人员", "井盖缺失"],
        "detail": ["", "每天晚上都这样", "影响通行", "很不安全", "已经很久了"],
    },
    "mediation": {
        "problem": ["和楼上邻居因为漏水闹矛盾", "邻居装修噪音吵架", "夫妻吵架要离婚", "和家人因为赡养老人有矛盾",
                    "兄弟分家产闹纠纷", "邻居占用公共过道起争执", "和同事因为工钱有纠纷", "楼上邻居天天噪音沟通不了",
                    "邻里之间因为停车位吵架", "婆媳矛盾很严重", "和房东因为押金吵起来", "邻居家狗叫扰民协商不成",
                    "家里老人赡养费谈不拢", "和邻居因为晾衣服滴水争吵"],
        "detail": ["", "希望有人调解", "双方都很激动", "想找社区调解一下", "不想报警只想解决问题"],
    },
    "consult": {
        "problem": ["想咨询居住证怎么办理", "请问社保怎么续交", "想了解老年卡办理流程", "孩子入学需要什么材料",
                    "咨询一下廉租房申请条件", "请问疫苗在哪里打", "咨询残疾人补贴政策", "养老金怎么领取",
                    "想问一下户口迁入手续", "请问社区有没有日间照料中心", "想咨询失业登记", "医保报销怎么办"],
        "detail": ["", "在哪个窗口办", "需要带什么证件", "什么时候可以办"],
    },
}


def synthetic_reports(n_per_matter: int = 120, *, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n_per_matter`` texts per matter, shuffled; returns (texts, matter labels). Deterministic for the seed.

    >>> texts, labels = synthetic_reports(2, seed=1)
    >>> len(texts), sorted(set(labels)) == sorted(MATTER_PHRASES)
    (14, True)
    """
    rng = np.random.default_rng([seed, 17])
    texts: list[str] = []
    labels: list[str] = []
    for matter, pools in MATTER_PHRASES.items():
        probs, dets = pools["problem"], pools["detail"]
        o = rng.integers(0, len(_OPEN), n_per_matter)
        p = rng.integers(0, len(probs), n_per_matter)
        d = rng.integers(0, len(dets), n_per_matter)
        c = rng.integers(0, len(_CLOSE), n_per_matter)
        for i in range(n_per_matter):
            detail = dets[d[i]]
            texts.append(f"{_OPEN[o[i]]}{probs[p[i]]}{'，' + detail if detail else ''}。{_CLOSE[c[i]]}")
            labels.append(matter)
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], [labels[i] for i in order]
