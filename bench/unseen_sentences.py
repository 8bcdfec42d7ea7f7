"""A third set of sentences for the slice benchmark, in neither its own set
(bench/slice_benchmark.TEXTS, on which the boundary model's variants were chosen) nor the
corpus the model was fitted on (bench/boundary_corpus.TEXTS): scored only after a choice
is made, so the number says how the slicer does on speech nothing here was tuned on.
Same style as the other two: declarative, no inner comma, 6-14 English words, 10-20
hanzi, Japanese in spaced kana of the benchmark's length.
"""
from __future__ import annotations

TEXTS = {
    "en": [
        "The violin teacher tuned every string before the lesson",
        "Two pigeons were sitting on the statue of the king",
        "My sister collects stamps from countries she has never seen",
        "The waiter brought two cups of tea and a plate of biscuits",
        "We missed the last bus and walked home in the dark",
        "The old clock in the hall stopped at half past three",
        "Her cousin grows roses and tulips in a tiny yard",
        "A group of tourists asked us the way to the castle",
        "Somebody left a red scarf on the bench in the park",
        "The bridge was closed for repairs during the whole spring",
        "Our teacher read us a story about a brave little mouse",
        "The baby finally fell asleep after a long warm bath",
        "He painted the kitchen walls a soft shade of green",
        "The firemen rescued a kitten from the top of a tree",
        "The nurse measured his temperature twice in one hour",
        "The price of coffee went up again this winter",
        "The twins wore matching yellow coats to the party",
        "My grandfather still writes letters with a fountain pen",
        "The plane circled the airport twice before it landed",
        "She keeps her keys in a small box by the door",
        "The choir practised every Thursday in the village church",
        "The road to the coast was full of holiday traffic",
        "The goalkeeper caught the ball with one hand",
        "The students planted a row of young oaks along the path",
    ],
    "cmn": [
        "小提琴老师在上课前调好了每一根弦", "两只鸽子停在国王的雕像上",
        "我妹妹收集了很多外国的邮票", "服务员端来两杯茶和一盘饼干",
        "我们错过了末班车只好摸黑走回家", "走廊里的旧钟停在了三点半",
        "她的表姐在小院子里种了玫瑰和郁金香", "渔民们很晚才带着空网回来",
        "有人把一条红围巾落在了公园的长椅上", "整个春天那座桥都因为维修而关闭",
        "老师给我们讲了一个勇敢小老鼠的故事", "宝宝洗了很久的热水澡终于睡着了",
        "他把厨房的墙刷成了淡淡的绿色", "消防员从树顶上救下了一只小猫",
        "护士一个小时里给他量了两次体温", "今年冬天咖啡的价格又涨了",
        "他们在酒店的屋顶上看烟花", "我爷爷现在还用钢笔写信",
        "飞机在机场上空绕了两圈才降落", "她把钥匙放在门边的一个小盒子里",
        "合唱团每个星期四在村里的教堂练习", "去海边的路上挤满了度假的车",
        "守门员用一只手接住了球", "学生们沿着小路种了一排小橡树",
    ],
    "ja": [
        "バイオリンの せんせいは レッスンの まえに げんを あわせました",
        "にわの はとが おうさまの どうぞうの うえに とまっていました",
        "いもうとは がいこくの きってを たくさん あつめています",
        "ウェイターは おちゃを ふたつと ビスケットを もってきました",
        "さいごの バスに のりおくれて くらい みちを あるいて かえりました",
        "ろうかの ふるい とけいは さんじはんで とまっていました",
        "かのじょの いとこは ちいさな にわで バラを そだてています",
        "りょうしたちは からの あみを もって おそくに もどりました",
        "だれかが こうえんの ベンチに あかい マフラーを わすれました",
        "その はしは はるの あいだ ずっと こうじで とおれませんでした",
        "せんせいは ゆうかんな ねずみの おはなしを よんでくれました",
        "あかちゃんは ながい おふろの あとで やっと ねむりました",
        "かれは だいどころの かべを うすい みどりいろに ぬりました",
        "しょうぼうしは きの うえから こねこを たすけだしました",
        "ちずを みながら ふるい おしろまで あるいて いきました",
        "この ふゆも コーヒーの ねだんが また あがりました",
        "かんごしは いちじかんに にかい ねつを はかりました",
        "そふは いまでも まんねんひつで てがみを かいています",
        "ひこうきは くうこうの うえを にかい まわってから おりました",
        "かのじょは かぎを げんかんの ちいさな はこに いれています",
        "せいかたいは まいしゅう もくようびに むらの きょうかいで れんしゅうします",
        "うみへ いく みちは れんきゅうの くるまで いっぱいでした",
        "ゴールキーパーは かたてで ボールを とりました",
        "がくせいたちは こみちに そって わかい きを いちれつ うえました",
    ],
}


def check_unseen() -> None:
    """Fails when one of these sentences is also in the benchmark's set or the corpus."""
    from bench.boundary_corpus import TEXTS as CORPUS
    from bench.slice_benchmark import TEXTS as BENCH

    for lang, texts in TEXTS.items():
        assert len(texts) == len(BENCH[lang]) and len(set(texts)) == len(texts), lang
        clash = set(texts) & (set(BENCH[lang]) | set(CORPUS[lang]))
        assert not clash, f"{lang}: sentences also in the benchmark or the corpus: {clash}"
