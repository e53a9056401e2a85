"""The segmentation service: dictionary, stop words, masked phones, deployment extensions."""

from __future__ import annotations

import pytest
import rjieba

from anju.errors import ConfigError
from anju.text.segment import (
    Segmenter,
    package_dictionary_path,
    package_stopwords_path,
    read_dictionary,
    read_stopwords,
)

REQUIRED = ["电动车", "电瓶", "快递", "外卖", "刷单", "返利", "冒充", "客服", "公检法", "杀猪盘", "网贷", "醉酒", "噪音",
            "漏水", "高空抛物", "群租"]


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    return Segmenter()


def test_dictionary_has_300_distinct_terms_including_the_required_ones():
    words = [w for w, _, _ in read_dictionary(package_dictionary_path())]
    assert len(set(words)) >= 300
    assert len(words) == len(set(words)), "duplicate entries"
    assert set(REQUIRED) <= set(words)


def test_every_dictionary_term_is_one_token(seg):
    stop = seg.stopwords
    broken = [w for w, _, _ in seg.entries if w not in stop and seg.cut(w) != [w]]
    assert broken == []
    # without the dictionary, several of them split: the dictionary is what keeps them whole
    plain = rjieba.Jieba()
    assert plain.cut("杀猪盘") != ["杀猪盘"] and plain.cut("高空抛物") != ["高空抛物"]


def test_default_rjieba_instance_is_not_modified():
    Segmenter()
    assert rjieba.cut("遭遇杀猪盘") != ["遭遇", "杀猪盘"]


def test_stop_words_punctuation_and_whitespace_removed(seg):
    toks = seg.cut("报警人称：在 小区楼下的电动车被盗了！！……请民警到场处理")
    assert toks == ["小区", "楼下", "电动车", "被盗"]
    stop = read_stopwords(package_stopwords_path())
    assert not (set(toks) & stop)


def test_masked_phone_is_one_token(seg):
    assert "138****5678" in seg.cut("对方电话138****5678，被骗3万元")
    assert "138****5678" in seg.cut("对方电话138 xxxx 5678")  # normalised first


def test_traditional_input_segmented_as_simplified(seg):
    assert seg.cut("電動車被盜") == ["电动车", "被盗"]


def test_user_dict_file_and_data_dir_extension(tmp_path):
    word = "康城杯赛"
    assert Segmenter().cut(f"参加{word}") != ["参加", word]
    f = tmp_path / "extra.txt"
    f.write_text(f"# deployment words\n{word} 5 n\n", encoding="utf-8")
    assert Segmenter(user_dict=f).cut(f"参加{word}") == ["参加", word]
    d = tmp_path / "anju-data"
    (d / "text").mkdir(parents=True)
    (d / "text" / "user_dict.txt").write_text(f"{word}\n", encoding="utf-8")
    (d / "text" / "stopwords.txt").write_text("参加\n", encoding="utf-8")
    assert Segmenter(data_dir=d).cut(f"参加{word}") == [word]


def test_bad_dictionary_line_is_reported_with_file_and_line(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("好词 10 n\n坏词 1.5 n\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.txt.*line 2.*坏词"):
        read_dictionary(f)


def test_keep_stopwords_and_tags(seg):
    keep = Segmenter(keep_stopwords=True)
    assert "的" in keep.cut("楼下的电动车被盗") and "的" not in seg.cut("楼下的电动车被盗")
    tags = dict(seg.tag("杀猪盘被骗"))
    assert tags["杀猪盘"] == "n"


def test_jieba_tokenizer_shares_the_dictionary(seg):
    tok = seg.jieba()
    assert "杀猪盘" in tok.lcut("遭遇杀猪盘被骗")


def test_cut_many_on_real_messages(seg, teddy_dir):
    import pandas as pd

    df = pd.read_csv(teddy_dir / "full" / "附件2_rawtext_subset_A.csv", header=None, names=["label", "text"])
    toks = seg.cut_many(df["text"].head(500).tolist())
    flat = [w for doc in toks for w in doc]
    assert len(toks) == 500 and all(doc for doc in toks)
    assert not [w for w in flat if not w.strip() or w in seg.stopwords]
