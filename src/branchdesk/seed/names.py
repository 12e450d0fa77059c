"""Name pools for synthetic customers: Chinese (Traditional and Simplified) and English."""

from __future__ import annotations

SURNAMES = [
    ("陳", "陈", "Chen"), ("林", "林", "Lin"), ("黃", "黄", "Huang"), ("張", "张", "Zhang"),
    ("李", "李", "Li"), ("王", "王", "Wang"), ("吳", "吴", "Wu"), ("劉", "刘", "Liu"),
    ("蔡", "蔡", "Cai"), ("楊", "杨", "Yang"), ("許", "许", "Xu"), ("鄭", "郑", "Zheng"),
    ("謝", "谢", "Xie"), ("郭", "郭", "Guo"), ("洪", "洪", "Hong"), ("曾", "曾", "Zeng"),
    ("周", "周", "Zhou"), ("趙", "赵", "Zhao"), ("孫", "孙", "Sun"), ("馬", "马", "Ma"),
    ("梁", "梁", "Liang"), ("何", "何", "He"), ("羅", "罗", "Luo"), ("高", "高", "Gao"),
]  # fmt: skip

GIVEN = [
    ("志明", "志明", "Zhiming"), ("淑芬", "淑芬", "Shufen"), ("家豪", "家豪", "Jiahao"),
    ("怡君", "怡君", "Yijun"), ("俊傑", "俊杰", "Junjie"), ("美玲", "美玲", "Meiling"),
    ("建華", "建华", "Jianhua"), ("雅婷", "雅婷", "Yating"), ("偉強", "伟强", "Weiqiang"),
    ("麗華", "丽华", "Lihua"), ("子軒", "子轩", "Zixuan"), ("欣怡", "欣怡", "Xinyi"),
    ("國榮", "国荣", "Guorong"), ("秀英", "秀英", "Xiuying"), ("承恩", "承恩", "Cheng'en"),
    ("詩涵", "诗涵", "Shihan"), ("文傑", "文杰", "Wenjie"), ("嘉欣", "嘉欣", "Jiaxin"),
    ("宇航", "宇航", "Yuhang"), ("佳穎", "佳颖", "Jiaying"), ("振宇", "振宇", "Zhenyu"),
    ("曉明", "晓明", "Xiaoming"), ("慧敏", "慧敏", "Huimin"), ("浩然", "浩然", "Haoran"),
]  # fmt: skip

ENGLISH_FIRST = [
    "Olivia", "James", "Emma", "William", "Sophia", "Benjamin", "Grace", "Daniel",
    "Chloe", "Michael", "Emily", "Thomas", "Hannah", "David", "Isabella", "Henry",
]  # fmt: skip
ENGLISH_LAST = [
    "Smith", "Brown", "Taylor", "Wilson", "Johnson", "Walker", "Wright", "Thompson",
    "Martin", "Clarke", "Harris", "Lewis", "Robinson", "Hughes", "Green", "Wood",
]  # fmt: skip
