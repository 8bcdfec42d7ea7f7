"""Sentences for fitting sentence-boundary models, none of them in the slice benchmark
(bench/slice_benchmark.TEXTS), so the benchmark stays held out in its sentences and not
only in its draws. Same style as the benchmark's: declarative, no inner comma (a comma
pause inside a sentence is longer than the 0-60 ms between sentences), 6-14 English words,
10-20 hanzi, Japanese in spaced kana of the benchmark's length.

``render(lang, variant)`` speaks every sentence of a language with espeak-ng at a rate
(-s 130..190), pitch (-p 30..70) and, for English, voice drawn per sentence from
``variant``; float32 at 32 kHz, trimmed like the benchmark's sentences, cached under the
temp dir keyed by a hash of the generator (a change to it or to espeak-ng makes a fresh
entry).
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SR = 32000
EN_VOICES = ("en", "en-us", "en-gb-x-rp")

TEXTS = {
    "en": [
        "The baker wakes up at four every morning",
        "Our old dog likes to sleep under the kitchen table",
        "The bus driver waved at the children on the corner",
        "My aunt sends us a postcard from every city she visits",
        "The river flooded the low fields after the heavy rain",
        "A young fox ran across the road in front of our car",
        "The shop on the corner sells newspapers and sweets",
        "We painted the fence white during the summer holidays",
        "The pilot announced that we would land in twenty minutes",
        "Grandfather fixed the broken clock with a tiny screwdriver",
        "The students waited outside the hall for the exam to begin",
        "A cold wind blew through the narrow streets of the harbour",
        "The farmer sold his potatoes at the weekly market",
        "She keeps her favourite books on a shelf above her bed",
        "The orchestra played a long piece without a single break",
        "Dinner was ready when we finally arrived home",
        "The new bridge will open to traffic next spring",
        "He learned to swim in the lake behind his school",
        "The post office is closed on Sunday afternoons",
        "Two small birds built a nest in our chimney",
        "The doctor told him to drink more water every day",
        "I lost my keys somewhere between the park and the office",
        "The tall ship sailed out of the port at dawn",
        "Our class visited a chocolate factory last week",
        "The lamp in the hallway flickers when the wind blows",
        "My sister is learning to play the violin",
        "The streets were empty on the morning after the festival",
        "A thick fog covered the valley until noon",
        "The gardener trimmed the hedges along the front path",
        "They ate their lunch on a bench beside the fountain",
        "The old castle stands on a hill above the village",
        "We watched the stars from the roof of our building",
        "The printer in the office ran out of paper again",
        "His favourite sweater has a hole in one sleeve",
        "The mountain hut offers hot tea to tired walkers",
        "The puppy chewed one of my new shoes",
        "A parcel arrived for you while you were out",
        "The kettle whistled loudly in the empty kitchen",
        "Fresh snow fell on the hills during the night",
        "The waiter brought us a basket of warm bread",
        "My cousin works at a hospital in the north",
        "The film was so long that I fell asleep",
        "The wooden floor creaks in the corner of the room",
        "She planted tulips along the edge of the lawn",
        "The factory closed its doors after fifty years",
        "We found a quiet beach at the end of the path",
        "The radio played old songs all through the evening",
        "A group of tourists gathered around the statue",
        "The baby laughed at the funny face his father made",
        "The ice on the pond is too thin to walk on",
        "Our teacher reads us a short story every Friday",
        "The train stopped for an hour in the middle of nowhere",
        "He keeps his tools in a red metal box",
        "The city council wants to plant more trees downtown",
        "I prefer coffee with a little milk and no sugar",
        "The lighthouse guided the fishing boats back to shore",
        "My neighbour collects stamps from all over the world",
        "The football match was cancelled because of the storm",
        "The chef tasted the sauce and added more salt",
        "Our flight was delayed by three hours this morning",
        "The kitten climbed to the top of the curtains",
        "A strong smell of roses filled the small garden",
        "The workers finished the new roof before the rain came",
        "She wrote a letter to her friend in another country",
        "The hotel room had a view of the busy square",
        "My father drives to work along the coast road",
        "The museum guard asked us to speak more quietly",
        "A red balloon floated high above the playground",
        "The soup needs to cook for another twenty minutes",
        "Our village holds a big fair every autumn",
        "The scientist measured the temperature of the water",
        "The shoes I bought yesterday are already too tight",
        "An owl called from the woods behind the farm",
        "The students planted a vegetable garden behind the school",
        "He always reads the newspaper before breakfast",
        "The paint on the old door has started to peel",
        "We took the last ferry back to the mainland",
        "The children collected shells along the sandy shore",
        "The manager thanked everyone for their hard work",
        "Heavy clouds gathered over the hills in the afternoon",
        "My grandmother knits warm socks for the whole family",
        "The elevator in our building broke down again",
        "A bright rainbow appeared over the fields after the shower",
        "The bookshop downtown has a small cafe upstairs",
        "The farmer counted his sheep before closing the gate",
        "She forgot to water the plants while we were away",
        "The streetlights came on one by one along the avenue",
        "Our team won the final match by a single goal",
        "The baker decorated the cake with fresh strawberries",
        "A loud noise woke everyone in the house at midnight",
        "The old piano in the hall is badly out of tune",
        "We hiked to the waterfall and back in one day",
        "The nurse checked on the patients every hour",
        "The wind carried the smell of the sea into town",
        "My uncle built a small cabin near the forest",
        "The bakery ran out of bread before ten o'clock",
        "The mayor opened the new swimming pool on Saturday",
        "I keep a spare key under the flower pot",
        "The ship's captain looked at the sky with worry",
        "Thousands of people came to see the parade",
        "The boy fed the ducks with pieces of stale bread",
        "Our car needs new tyres before the winter",
        "The painter mixed blue and yellow to make green",
        "The guests arrived just as the sun was setting",
        "A small spider spun its web in the window frame",
        "The youngest girl in the class won the spelling contest",
        "The stream behind the cottage freezes every January",
        "He carried the heavy boxes up to the third floor",
        "The actors practised their lines on the empty stage",
        "Apples from our tree taste sweeter than those from the shop",
        "The cinema will show an old western this weekend",
        "The carpenter measured the wood twice before cutting it",
        "My friend is moving to a farm in the countryside",
        "The bell in the church tower rings every hour",
        "A gentle breeze moved the leaves of the old oak",
        "The tourists took photographs of the famous bridge",
        "Our school library received a hundred new books",
        "The cook burned the toast while talking on the phone",
        "The snow plough cleared the road early this morning",
        "She hung the wet laundry on a line in the yard",
        "The fishermen returned with a boat full of fish",
        "We spent the whole afternoon cleaning the attic",
        "The market square fills with musicians every summer",
        "The climbers reached the summit just before noon",
    ],
    "cmn": [
        "面包师每天早上四点钟就起床了",
        "我们家的老狗喜欢睡在厨房的桌子下面",
        "公交车司机向路口的孩子们挥手",
        "我阿姨每到一个城市都会给我们寄明信片",
        "大雨过后河水淹没了低处的田地",
        "一只小狐狸从我们的车前面跑过马路",
        "街角的小店卖报纸和糖果",
        "暑假的时候我们把篱笆刷成了白色",
        "飞行员说我们二十分钟以后就会降落",
        "爷爷用一把小螺丝刀修好了坏掉的钟",
        "学生们在大厅外面等着考试开始",
        "冷风吹过港口旁边狭窄的街道",
        "农民在每周的集市上卖他的土豆",
        "她把最喜欢的书放在床头的架子上",
        "乐队一口气演奏了一首很长的曲子",
        "我们终于到家的时候晚饭已经做好了",
        "新的大桥明年春天就会通车",
        "他是在学校后面的湖里学会游泳的",
        "邮局星期天下午不开门",
        "两只小鸟在我们家的烟囱里筑了一个窝",
        "医生叫他每天多喝一点水",
        "我在公园和办公室之间丢了钥匙",
        "那艘大船在天亮的时候离开了港口",
        "上个星期我们班去参观了一家巧克力工厂",
        "刮风的时候走廊里的灯会一闪一闪的",
        "我妹妹正在学习拉小提琴",
        "节日过后的早上街上空荡荡的",
        "浓雾一直到中午才从山谷里散去",
        "园丁修剪了前门小路两边的树篱",
        "他们坐在喷泉旁边的长椅上吃午饭",
        "古老的城堡建在村子上面的小山上",
        "我们在楼顶上看了一晚上的星星",
        "办公室的打印机又没有纸了",
        "他最喜欢的毛衣一只袖子上有个洞",
        "山上的小屋给累了的游客提供热茶",
        "小狗把我的一只新鞋咬坏了",
        "你出去的时候有人给你送来了一个包裹",
        "空荡荡的厨房里水壶响个不停",
        "昨天夜里山上下了一场新雪",
        "服务员给我们端来了一篮热面包",
        "我表哥在北方的一家医院工作",
        "这部电影太长了我看着看着就睡着了",
        "房间角落里的木地板踩上去会响",
        "她在草坪边上种了一排郁金香",
        "那家工厂开了五十年以后关门了",
        "我们在小路的尽头找到了一片安静的海滩",
        "收音机整个晚上都在放老歌",
        "一群游客围在雕像旁边拍照",
        "爸爸做的鬼脸把小宝宝逗笑了",
        "池塘上的冰太薄了不能在上面走",
        "我们的老师每个星期五给我们讲一个小故事",
        "火车在荒郊野外停了一个小时",
        "他把工具放在一个红色的铁盒子里",
        "市政府想在市中心多种一些树",
        "我喜欢在咖啡里加一点牛奶不加糖",
        "灯塔把渔船引回了岸边",
        "我的邻居收集世界各地的邮票",
        "因为暴风雨足球比赛取消了",
        "厨师尝了尝酱汁又加了一点盐",
        "我们今天早上的航班晚了三个小时",
        "小猫爬到了窗帘的最上面",
        "小花园里到处都是玫瑰的香味",
        "工人们在下雨之前修好了新屋顶",
        "她给住在国外的朋友写了一封信",
        "宾馆的房间可以看到热闹的广场",
        "我爸爸每天沿着海边的公路开车上班",
        "博物馆的保安请我们说话小声一点",
        "一个红气球高高地飘在操场上空",
        "这锅汤还要再煮二十分钟",
        "我们村每年秋天都有一个大集会",
        "科学家测量了河水的温度",
        "我昨天买的鞋子已经有点挤脚了",
        "农场后面的树林里传来猫头鹰的叫声",
        "学生们在学校后面开了一块菜地",
        "他每天早饭前都要看报纸",
        "那扇旧门上的油漆已经开始脱落了",
        "我们坐最后一班渡轮回到了大陆",
        "孩子们在沙滩上捡了很多贝壳",
        "经理感谢了每一个人的辛苦工作",
        "下午山上慢慢聚起了厚厚的乌云",
        "我奶奶给全家人织了暖和的袜子",
        "我们楼里的电梯又坏了",
        "阵雨过后田野上出现了一道彩虹",
        "市中心的书店楼上有一个小咖啡馆",
        "农民关门之前数了数他的羊",
        "我们出门的时候她忘了给花浇水",
        "大街上的路灯一盏接一盏地亮了起来",
        "我们队在决赛里以一个进球赢了比赛",
        "面包师用新鲜的草莓装饰了蛋糕",
        "半夜里一声巨响把全家人都吵醒了",
        "大厅里的那架旧钢琴已经走音了",
        "我们一天之内走到瀑布又走了回来",
        "护士每个小时都来看一次病人",
        "风把大海的味道吹进了小镇",
        "我叔叔在森林旁边盖了一间小木屋",
        "十点钟还没到面包店的面包就卖完了",
        "市长星期六为新的游泳池剪了彩",
        "我在花盆下面放了一把备用钥匙",
        "船长担心地抬头看着天空",
        "成千上万的人来看游行",
        "男孩用干面包喂湖里的鸭子",
        "冬天之前我们的车需要换新轮胎",
        "画家把蓝色和黄色调成了绿色",
        "太阳下山的时候客人们到了",
        "一只小蜘蛛在窗框上织了一张网",
        "班上最小的女孩赢得了拼写比赛",
        "小屋后面的小溪每年一月都会结冰",
        "他把重重的箱子搬到了三楼",
        "演员们在空空的舞台上练习台词",
        "我们树上的苹果比商店里的甜多了",
        "这个周末电影院要放一部老电影",
        "木匠切木头之前量了两次",
        "我的朋友要搬到乡下的一个农场去住",
        "教堂钟楼上的钟每个小时都会响",
        "微风轻轻地吹动了老橡树的叶子",
        "游客们给那座有名的大桥拍了照片",
        "我们学校的图书馆收到了一百本新书",
        "厨师打电话的时候把面包烤焦了",
        "扫雪车今天一大早就把路清理干净了",
        "她把湿衣服晾在院子里的绳子上",
        "渔民们开着装满鱼的船回来了",
        "我们花了一整个下午打扫阁楼",
        "每年夏天广场上都会来很多街头音乐家",
        "登山的人在中午之前到达了山顶",
    ],
    "ja": [
        "パンやさんは まいあさ よじに おきます",
        "うちの ふるい いぬは だいどころの テーブルの したで ねるのが すきです",
        "バスの うんてんしゅは かどの こどもたちに てを ふりました",
        "おばは いろいろな まちから はがきを おくってくれます",
        "おおあめの あとで かわの みずが たんぼに あふれました",
        "ちいさな きつねが くるまの まえを はしって いきました",
        "かどの みせでは しんぶんと おかしを うっています",
        "なつやすみに わたしたちは へいを しろく ぬりました",
        "パイロットは あと にじゅっぷんで つくと いいました",
        "そふは ちいさな ドライバーで こわれた とけいを なおしました",
        "がくせいたちは ホールの そとで しけんが はじまるのを まちました",
        "つめたい かぜが みなとの せまい みちを ふきぬけました",
        "のうかの ひとは いちばで じゃがいもを うりました",
        "かのじょは すきな ほんを ベッドの うえの たなに おいています",
        "オーケストラは ながい きょくを やすまずに えんそうしました",
        "いえに ついた ときには もう ゆうごはんが できていました",
        "あたらしい はしは らいねんの はるに ひらきます",
        "かれは がっこうの うらの みずうみで およぎを おぼえました",
        "ゆうびんきょくは にちようびの ごごは やすみです",
        "にわの ことりが えんとつの なかに すを つくりました",
        "いしゃは かれに まいにち もっと みずを のむように いいました",
        "こうえんと かいしゃの あいだで かぎを なくして しまいました",
        "おおきな ふねは よあけに みなとを でていきました",
        "せんしゅう わたしたちの クラスは チョコレートの こうじょうを みにいきました",
        "かぜが ふくと ろうかの でんきが ちかちか します",
        "いもうとは バイオリンを ならっています",
        "おまつりの つぎの あさ まちは しずかでした",
        "こい きりが おひるまで たにを おおっていました",
        "にわしは げんかんの まえの いけがきを かりこみました",
        "かれらは ふんすいの そばの ベンチで おひるを たべました",
        "ふるい おしろは むらの うえの おかに たっています",
        "わたしたちは ビルの おくじょうから ほしを みました",
        "かいしゃの プリンターの かみが また なくなりました",
        "かれの すきな セーターには そでに あなが あいています",
        "やまごやでは つかれた ひとに あたたかい おちゃを だしています",
        "こいぬが わたしの あたらしい くつを かんで しまいました",
        "るすの あいだに あなたに こづつみが とどきました",
        "だれも いない だいどころで やかんが なりました",
        "よるの あいだに やまに ゆきが ふりました",
        "ウェイターが あたたかい パンを もってきてくれました",
        "いとこは きたの びょういんで はたらいています",
        "えいがが ながすぎて わたしは ねむって しまいました",
        "へやの すみの ゆかは あるくと きしみます",
        "かのじょは しばふの はしに チューリップを うえました",
        "その こうじょうは ごじゅうねんで しまりました",
        "みちの おわりに しずかな はまべが ありました",
        "ラジオは ひとばんじゅう ふるい うたを ながしていました",
        "かんこうきゃくが どうぞうの まわりに あつまりました",
        "あかちゃんは おとうさんの へんな かおを みて わらいました",
        "いけの こおりは うすくて うえを あるけません",
        "せんせいは まいしゅう きんようびに みじかい はなしを よんでくれます",
        "でんしゃは なにも ない ところで いちじかん とまりました",
        "かれは どうぐを あかい てつの はこに いれています",
        "しやくしょは まちなかに もっと きを うえたいと かんがえています",
        "わたしは コーヒーに すこし ミルクを いれて のみます",
        "とうだいは りょうせんを きしまで みちびきました",
        "となりの ひとは せかいじゅうの きってを あつめています",
        "あらしの ため サッカーの しあいは ちゅうしに なりました",
        "コックは ソースを あじみして しおを たしました",
        "けさの ひこうきは さんじかん おくれました",
        "こねこは カーテンの いちばん うえまで のぼりました",
        "ちいさな にわに バラの かおりが ひろがりました",
        "あめが ふる まえに あたらしい やねが できあがりました",
        "かのじょは がいこくに いる ともだちに てがみを かきました",
        "ホテルの へやから にぎやかな ひろばが みえました",
        "ちちは まいにち かいがんの みちを はしって しごとに いきます",
        "はくぶつかんの ひとに しずかに するように いわれました",
        "あかい ふうせんが こうていの うえを たかく とんでいきました",
        "この スープは あと にじゅっぷん にこまなければ なりません",
        "わたしたちの むらでは まいとし あきに おおきな いちが あります",
        "かがくしゃは かわの みずの おんどを はかりました",
        "きのう かった くつは もう すこし きついです",
        "のうじょうの うらの もりで ふくろうが なきました",
        "せいとたちは がっこうの うらに やさいばたけを つくりました",
        "かれは いつも あさごはんの まえに しんぶんを よみます",
        "ふるい ドアの ペンキが はがれはじめました",
        "わたしたちは さいごの フェリーで ほんどに もどりました",
        "こどもたちは すなはまで かいがらを たくさん ひろいました",
        "てんちょうは みんなの がんばりに おれいを いいました",
        "ごごに なると やまの うえに くろい くもが あつまりました",
        "そぼは かぞく みんなに あたたかい くつしたを あみます",
        "わたしたちの ビルの エレベーターが また こわれました",
        "にわかあめの あとで はたけの うえに にじが でました",
        "まちなかの ほんやの にかいには ちいさな カフェが あります",
        "のうかの ひとは もんを しめる まえに ひつじを かぞえました",
        "るすの あいだ かのじょは はなに みずを やるのを わすれました",
        "おおどおりの がいとうが ひとつずつ つきはじめました",
        "わたしたちの チームは けっしょうで いってんさで かちました",
        "パンやさんは ケーキに いちごを かざりました",
        "まよなかに おおきな おとがして みんな めを さましました",
        "ホールの ふるい ピアノは おとが くるっています",
        "わたしたちは いちにちで たきまで いって かえってきました",
        "かんごしは いちじかんごとに かんじゃを みまわりました",
        "かぜが うみの においを まちまで はこんできました",
        "おじは もりの ちかくに ちいさな こやを たてました",
        "じゅうじ まえに パンやの パンは うりきれました",
        "しちょうは どようびに あたらしい プールを ひらきました",
        "わたしは うえきばちの したに あいかぎを おいています",
        "せんちょうは しんぱいそうに そらを みあげました",
        "なんぜんにんもの ひとが パレードを みにきました",
        "おとこのこは かたい パンで あひるに えさを やりました",
        "ふゆの まえに くるまの タイヤを かえなければ なりません",
        "がかは あおと きいろを まぜて みどりを つくりました",
        "ひが しずむ ころに おきゃくさんが つきました",
        "ちいさな くもが まどわくに すを はりました",
        "クラスで いちばん ちいさい おんなのこが コンテストで かちました",
        "こやの うらの おがわは まいとし いちがつに こおります",
        "かれは おもい はこを さんがいまで はこびました",
        "やくしゃたちは だれも いない ぶたいで せりふを れんしゅうしました",
        "うちの きの りんごは みせの りんごより あまいです",
        "こんしゅうまつ えいがかんで ふるい えいがを やります",
        "だいくは きる まえに きを にかい はかりました",
        "ともだちは いなかの のうじょうに ひっこす よていです",
        "きょうかいの かねは まいじかん なります",
        "やさしい かぜが ふるい きの はを ゆらしました",
        "かんこうきゃくは ゆうめいな はしの しゃしんを とりました",
        "がっこうの としょしつに ひゃくさつの あたらしい ほんが とどきました",
        "コックは でんわを しながら パンを こがして しまいました",
        "けさ はやく じょせつしゃが みちを きれいに しました",
        "かのじょは ぬれた せんたくものを にわに ほしました",
        "りょうしたちは さかなで いっぱいの ふねで もどってきました",
        "わたしたちは ごご ずっと やねうらを そうじしました",
        "まいとし なつに なると ひろばに おんがくかが あつまります",
        "やまに のぼった ひとたちは おひるまえに ちょうじょうに つきました",
    ],
}

CACHE = Path(os.environ.get("BOUNDARY_CORPUS_CACHE",
                            Path(tempfile.gettempdir()) / "gsv_boundary_corpus"))


def _voices(lang: str) -> list[str]:
    if lang != "en":
        return [lang]
    have = subprocess.run(["espeak-ng", "--voices=en"], capture_output=True,
                          text=True).stdout.split()
    return [v for v in EN_VOICES if v in have] or ["en"]


def _speak(text: str, voice: str, rate: int, pitch: int, tmp: Path) -> np.ndarray:
    import soundfile as sf

    from bench.slice_benchmark import _trim

    raw, wav = tmp / "raw.wav", tmp / "s.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch),
                    "-w", str(raw), text], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["sox", "-R", str(raw), "-r", str(SR), "-c", "1", "-b", "16", str(wav)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    x, _ = sf.read(str(wav), dtype="float32")
    return _trim(x)


def _draws(lang: str, variant: int) -> list[tuple[str, int, int]]:
    """(voice, rate, pitch) per sentence; variant 0 and 1 differ on every sentence."""
    rng = np.random.default_rng([variant, ("en", "cmn", "ja").index(lang)])
    voices = _voices(lang)
    return [(voices[int(rng.integers(len(voices)))], int(rng.integers(130, 191)),
             int(rng.integers(30, 71))) for _ in TEXTS[lang]]


def _key(lang: str, variant: int) -> str:
    from bench import slice_benchmark as sb

    src = "".join(inspect.getsource(f) for f in (_speak, _draws, _voices, sb._trim))
    ver = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout
    blob = json.dumps([src, ver, TEXTS[lang], _draws(lang, variant), SR],
                      ensure_ascii=False)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def render(lang: str, variant: int = 0) -> list[np.ndarray]:
    """Every sentence of ``lang`` spoken once (float32, 32 kHz, trimmed), from the cache
    when rendered before."""
    path = CACHE / f"{lang}_v{variant}_{_key(lang, variant)}.npz"
    if path.exists():
        z = np.load(path, allow_pickle=False)
        return [z[f"a{k}"] for k in range(len(TEXTS[lang]))]
    with tempfile.TemporaryDirectory() as tmp:
        out = [_speak(t, v, r, p, Path(tmp))
               for t, (v, r, p) in zip(TEXTS[lang], _draws(lang, variant))]
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(part, **{f"a{k}": a for k, a in enumerate(out)})
    os.replace(part, path)
    return out


def check_held_out() -> None:
    """Fails when a corpus sentence is also one of the benchmark's."""
    from bench.slice_benchmark import TEXTS as BENCH

    for lang, texts in TEXTS.items():
        clash = set(texts) & set(BENCH[lang])
        assert not clash, f"{lang}: benchmark sentences in the corpus: {sorted(clash)}"
        assert len(set(texts)) == len(texts), f"{lang}: a sentence is listed twice"


if __name__ == "__main__":
    import time

    check_held_out()
    for lang in TEXTS:
        t = time.perf_counter()
        parts = render(lang, 0)
        secs = sum(map(len, parts)) / SR
        print(f"{lang}: {len(parts)} sentences, {secs:.0f} s of speech, "
              f"{time.perf_counter() - t:.1f} s")
