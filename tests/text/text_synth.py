"""A tiny labelled call-text corpus built here (not from anju.demo): per label, templates × fillers."""

from __future__ import annotations

import numpy as np

_TEMPLATES = {
    "theft.nonmotor": ["{p}停放在{c}楼下的{v}被盗", "{p}{v}在{c}车棚被人偷走", "{p}发现{c}门口的{v}不见了，怀疑被偷"],
    "theft.battery": ["{p}{v}的电瓶被盗", "{p}停在{c}的{v}电瓶被人偷了", "{p}{c}车棚多辆{v}电池被偷"],
    "fraud.rebate": ["{p}在网上做刷单任务被骗{a}", "{p}被拉进刷单群，做任务返佣金，被骗{a}", "{p}遭遇刷单返利诈骗，损失{a}"],
    "fraud.fake_service": ["{p}接到冒充客服电话称可以退款理赔，被骗{a}", "{p}假客服称要注销会员，转账{a}",
                           "{p}对方自称快递客服，理赔时被骗{a}"],
    "dispute.neighbour": ["{p}与{c}楼上邻居因漏水发生纠纷", "{p}{c}楼下邻居占用楼道，双方争吵", "{p}邻居之间因噪音吵架"],
    "noise.residential": ["{p}{c}楼上装修噪音扰民", "{p}半夜{c}有人唱歌吵闹", "{p}{c}隔壁噪音太大无法休息"],
}
_FILL = {
    "p": ["报警人称", "来电称", "报警人反映", "事主称"],
    "c": ["上海康城", "万科城市花园", "春申景城", "七宝新村", "莘庄小区"],
    "v": ["电动车", "电瓶车", "雅迪电动车", "自行车"],
    "a": ["3000元", "2.5万元", "五千余元", "12,800元", "人民币8000元"],
}


def make_corpus(n_per_label: int = 40, seed: int = 0) -> tuple[list[str], list[str]]:
    """Synthetic labelled call texts (seeded)."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, tpls in _TEMPLATES.items():
        for _ in range(n_per_label):
            tpl = tpls[rng.integers(len(tpls))]
            fill = {k: v[rng.integers(len(v))] for k, v in _FILL.items()}
            texts.append(tpl.format(**fill) + ("，请民警到场" if rng.random() < 0.5 else ""))
            labels.append(label)
    return texts, labels
